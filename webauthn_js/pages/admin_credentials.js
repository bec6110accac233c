// Credentials: each passkey's authenticator, whether its model is proven by attestation or
// only claimed, its trust and status; disable, re-enable or delete it (step-up when asked).
// `?user=<id>` shows one user's (the users page links here with it).
import { act, button, cell, change, el, read, say, sayError, when } from "./admin_common.js";

const PAGE = 50;
const filter = new URLSearchParams(window.location.search).get("user") ?? "";
let lastId = 0;

function authenticator(credential) {
  const name = credential.authenticator || "Unknown authenticator";
  const icon = credential.authenticatorIcon
    ? el("img", { className: "icon", src: credential.authenticatorIcon, alt: "" })
    : el("span", { className: "icon placeholder", textContent: name.slice(0, 1).toUpperCase(), ariaHidden: "true" });
  return el("div", { className: "inline" }, icon,
    el("span", {}, el("strong", { textContent: name }), el("br"), el("span", { className: "muted", textContent: `id ${credential.id} · ${credential.fmt}` })));
}

function actions(credential, label) {
  const active = credential.status === "active";
  const toggle = button(active ? "Disable" : "Re-enable", `${active ? "Disable" : "Re-enable"} ${label}`, active ? "danger" : "");
  const remove = button("Delete", `Delete ${label}`, "danger");
  const box = el("div", { className: "inline" }, toggle, remove);
  toggle.addEventListener("click", async () => {
    const status = active ? "disabled" : "active";
    const ok = await act(toggle, () => change("PUT", `/credentials/${credential.id}/status`, { status }));
    if (ok) await reload(`${label} is ${status === "active" ? "active again" : "disabled"}.`, `${active ? "Re-enable" : "Disable"} ${label}`);
  });
  remove.addEventListener("click", () => {
    const yes = button("Delete for good", `Delete for good: ${label}`, "danger");
    const no = button("Keep it", `Keep it: ${label}`);
    box.replaceChildren(el("span", { textContent: "Delete? The user can no longer sign in with it." }), yes, no);
    yes.focus();
    no.addEventListener("click", () => reload("", `Delete ${label}`));
    yes.addEventListener("click", async () => {
      const ok = await act(yes, () => change("DELETE", `/credentials/${credential.id}`));
      if (ok) await reload(`${label} is deleted.`);
    });
  });
  return box;
}

function credentialRow(credential) {
  const label = `passkey ${credential.id} of ${credential.username}`;
  return el("tr", {},
    cell("Authenticator", authenticator(credential)),
    cell("User", el("a", { href: `/admin/credentials?user=${credential.user}`, textContent: credential.username })),
    cell("Model", credential.aaguidProven ? "proven by attestation" : "claimed, not proven"),
    cell("Trust", credential.trust),
    cell("Kind", credential.backupEligible ? "synced" : "device-bound"),
    cell("Status", el("span", { className: `tag ${credential.status}`, textContent: credential.status })),
    cell("Last used", when(credential.lastUsedAt)),
    cell("Actions", actions(credential, label)),
  );
}

async function more() {
  const user = filter ? `&user=${encodeURIComponent(filter)}` : "";
  const { credentials } = await read(`/credentials?after=${lastId}&limit=${PAGE}${user}`);
  document.getElementById("credentials").append(...credentials.map(credentialRow));
  if (credentials.length) lastId = credentials[credentials.length - 1].id;
  document.getElementById("more").hidden = credentials.length < PAGE;
}

async function reload(message, focus) {
  try {
    lastId = 0;
    document.getElementById("credentials").replaceChildren();
    await more();
    if (message) say(message, "ok");
    if (focus) document.querySelector(`[aria-label="${CSS.escape(focus)}"]`)?.focus();
  } catch (error) {
    sayError(error);
  }
}

document.getElementById("filter-user").value = filter;
const moreButton = document.getElementById("more");
moreButton.addEventListener("click", () => act(moreButton, more));
reload();
