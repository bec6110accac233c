// The account page: the person's passkeys (rename, delete, add another) and sessions.
// Every change is a JSON fetch(); one that needs a fresh user-verified assertion runs the
// step-up on this session and is retried once (see common.js).
import { addPasskey, callService as call } from "/static/webauthn.js";
import { busy, say, sayError, withStepUp } from "./common.js";

let me = null;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");

function facts(pairs) {
  const list = el("dl");
  for (const [term, value] of pairs) list.append(el("dt", { textContent: term }), el("dd", { textContent: value }));
  return list;
}

function icon(credential) {
  if (credential.authenticatorIcon) {
    return el("img", { className: "icon", src: credential.authenticatorIcon, alt: "" });
  }
  const initial = (credential.name || credential.authenticator || "P").slice(0, 1).toUpperCase();
  return el("span", { className: "icon placeholder", textContent: initial, ariaHidden: "true" });
}

function passkeyItem(credential) {
  const label = credential.name || credential.authenticator || "Passkey";
  const synced = credential.backupEligible ? "Synced passkey" : "On this device only";
  const proven = credential.aaguidProven ? "Model proven by attestation" : "Model claimed, not proven";
  const tags = el("p", {},
    el("span", { className: "tag", textContent: synced }),
    el("span", { className: "tag", textContent: proven }),
  );
  if (credential.signedInThisSession) tags.append(el("span", { className: "tag", textContent: "Used for this sign-in" }));
  const rename = el("button", { type: "button", textContent: "Rename" });
  const remove = el("button", { type: "button", className: "danger", textContent: "Delete" });
  rename.setAttribute("aria-label", `Rename ${label}`);
  remove.setAttribute("aria-label", `Delete ${label}`);
  const actions = el("div", { className: "actions" }, rename, remove);
  const item = el("li", {},
    icon(credential),
    el("div", { className: "body" },
      el("p", { className: "name", textContent: label }),
      facts([
        ["Authenticator", credential.authenticator || "Unknown"],
        ["Created", when(credential.createdAt)],
        ["Last used", when(credential.lastUsedAt)],
      ]),
      tags,
    ),
    actions,
  );
  rename.addEventListener("click", () => renameForm(credential, label, actions, rename));
  remove.addEventListener("click", () => confirmDelete(credential, label, actions));
  return item;
}

function renameForm(credential, label, actions, opener) {
  const id = `name-${credential.id}`;
  const input = el("input", { id, value: credential.name || "", maxLength: 64, autocomplete: "off" });
  const save = el("button", { type: "submit", className: "primary", textContent: "Save" });
  const cancel = el("button", { type: "button", textContent: "Cancel" });
  const form = el("form", { noValidate: true }, el("label", { htmlFor: id, textContent: `New name for ${label}` }), input, save, cancel);
  actions.replaceChildren(form);
  input.focus();
  cancel.addEventListener("click", () => load(opener.getAttribute("aria-label")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim() || null;
    await busy(save, async () => {
      try {
        await call("PATCH", `/api/v1/me/credentials/${credential.id}`, { name });
        await load();
        say(`Renamed to “${name || credential.authenticator || "Passkey"}”.`, "ok");
      } catch (error) {
        sayError(error);
      }
    });
  });
}

function confirmDelete(credential, label, actions) {
  const yes = el("button", { type: "button", className: "danger", textContent: "Delete passkey" });
  const no = el("button", { type: "button", textContent: "Keep it" });
  actions.replaceChildren(el("p", { textContent: `Delete “${label}”? You can no longer sign in with it.` }), yes, no);
  yes.focus();
  no.addEventListener("click", () => load());
  yes.addEventListener("click", () => busy(yes, async () => {
    try {
      await withStepUp(() => call("DELETE", `/api/v1/me/credentials/${credential.id}`));
      await load();
      say(`Deleted “${label}”.`, "ok");
    } catch (error) {
      sayError(error);
    }
  }));
}

function sessionItem(session) {
  const where = session.userAgent || "Unknown browser";
  const end = el("button", { type: "button", textContent: session.current ? "Sign out" : "Sign out there" });
  end.setAttribute("aria-label", session.current ? "Sign out of this browser" : `Sign out of ${where}`);
  end.addEventListener("click", () => busy(end, async () => {
    try {
      await call("DELETE", `/api/v1/me/sessions/${session.id}`);
      if (session.current) window.location.assign("/");
      else await load();
    } catch (error) {
      sayError(error);
    }
  }));
  return el("li", {},
    el("span", { className: "icon placeholder", textContent: session.current ? "●" : "○", ariaHidden: "true" }),
    el("div", { className: "body" },
      el("p", { className: "name", textContent: session.current ? "This browser" : where }),
      facts([
        ["Signed in", when(session.signedInAt)],
        ["Last seen", when(session.lastSeenAt)],
        ["From", session.clientAddress || "unknown"],
      ]),
    ),
    el("div", { className: "actions" }, end),
  );
}

/** (Re)draw the page from the API; `focusLabel` puts focus back on the control it names. */
async function load(focusLabel) {
  try {
    me = await call("GET", "/api/v1/me");
  } catch (error) {
    if (error.status === 401) window.location.assign("/");
    else sayError(error);
    return;
  }
  const [{ credentials }, { sessions }] = await Promise.all([
    call("GET", "/api/v1/me/credentials"),
    call("GET", "/api/v1/me/sessions"),
  ]);
  document.getElementById("welcome").textContent = `Signed in as ${me.displayName} (${me.username}).`;
  document.getElementById("nudge").hidden = credentials.length !== 1;
  document.getElementById("passkeys").replaceChildren(...credentials.map(passkeyItem));
  document.getElementById("sessions").replaceChildren(...sessions.map(sessionItem));
  if (focusLabel) document.querySelector(`[aria-label="${CSS.escape(focusLabel)}"]`)?.focus();
}

const addButton = document.getElementById("add-passkey");
addButton.addEventListener("click", () => busy(addButton, async () => {
  say("Follow your browser's prompt to create the new passkey.");
  try {
    await addPasskey(); // it steps up itself when the service asks
    await load();
    say("Your new passkey is ready.", "ok");
  } catch (error) {
    sayError(error);
  }
}));

async function signOut(path, button) {
  await busy(button, async () => {
    try {
      await call("DELETE", path);
      window.location.assign("/");
    } catch (error) {
      sayError(error);
    }
  });
}

const out = document.getElementById("sign-out");
out.addEventListener("click", () => signOut("/api/v1/sessions/current", out));
const everywhere = document.getElementById("sign-out-everywhere");
everywhere.addEventListener("click", () => signOut("/api/v1/me/sessions", everywhere));

load().catch(sayError);
