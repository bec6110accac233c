// Apps: the registered iOS and Android apps, their signing certificates and origins; add an
// app (its back end's client secret is shown once), add or remove a fingerprint, remove an
// app. Every change goes through the admin API, which asks for a step-up when needed.
import { act, button, cell, change, el, read, say, sayError, when } from "./admin_common.js";

const form = document.getElementById("add-app");

function platform() {
  return form.querySelector("input[name=platform]:checked").value;
}

function showPlatform() {
  const ios = platform() === "ios";
  document.getElementById("ios-fields").hidden = !ios;
  document.getElementById("android-fields").hidden = ios;
}

function fingerprintList(app) {
  const list = el("ul", {});
  for (const fingerprint of app.fingerprints) {
    const remove = button("Remove", `Remove fingerprint ${fingerprint.slice(0, 8)}… of ${app.clientId}`, "danger");
    remove.addEventListener("click", async () => {
      const ok = await act(remove, () => change("DELETE", `/apps/${app.id}/fingerprints/${fingerprint.replaceAll(":", "")}`));
      if (ok) await reload(`The fingerprint is removed from ${app.clientId}: its origin is refused from now on.`);
    });
    const item = el("li", {}, el("code", { textContent: fingerprint }));
    if (app.fingerprints.length > 1) item.append(" ", remove);
    list.append(item);
  }
  return list;
}

function addFingerprint(app) {
  const input = el("input", { autocomplete: "off", spellcheck: false });
  input.setAttribute("aria-label", `New fingerprint for ${app.clientId}`);
  const add = button("Add fingerprint", `Add a fingerprint to ${app.clientId}`);
  add.addEventListener("click", async () => {
    const ok = await act(add, () => change("POST", `/apps/${app.id}/fingerprints`, { fingerprint: input.value.trim() }));
    if (ok) await reload(`The fingerprint is added to ${app.clientId}.`);
  });
  return el("div", { className: "inline" }, input, add);
}

function actions(app) {
  const remove = button("Remove", `Remove app ${app.clientId}`, "danger");
  const box = el("div", { className: "inline" }, remove);
  remove.addEventListener("click", () => {
    const yes = button("Remove for good", `Remove for good: ${app.clientId}`, "danger");
    const no = button("Keep it", `Keep it: ${app.clientId}`);
    box.replaceChildren(el("span", { textContent: "Remove? Its users can no longer sign in from it." }), yes, no);
    yes.focus();
    no.addEventListener("click", () => reload("", `Remove app ${app.clientId}`));
    yes.addEventListener("click", async () => {
      const ok = await act(yes, () => change("DELETE", `/apps/${app.id}`));
      if (ok) await reload(`${app.clientId} is removed.`);
    });
  });
  return box;
}

function appRow(app) {
  const certificates = app.platform === "android"
    ? el("div", {}, fingerprintList(app), addFingerprint(app))
    : el("span", { className: "muted", textContent: "none (iOS apps use the web origin)" });
  return el("tr", {},
    cell("App", el("strong", { textContent: app.name })),
    cell("Platform", app.platform === "ios" ? "iOS" : "Android"),
    cell("Client id", el("code", { textContent: app.clientId })),
    cell("Signing certificates (SHA-256)", certificates),
    cell("Added", when(app.createdAt)),
    cell("Actions", actions(app)),
  );
}

async function reload(message, focus) {
  try {
    const { apps } = await read("/apps");
    const rows = apps.map(appRow);
    if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 6, textContent: "No apps are registered yet." })));
    document.getElementById("apps").replaceChildren(...rows);
    if (message) say(message, "ok");
    if (focus) document.querySelector(`[aria-label="${CSS.escape(focus)}"]`)?.focus();
  } catch (error) {
    sayError(error);
  }
}

function body() {
  const name = document.getElementById("app-name").value.trim();
  const named = name ? { name } : {};
  if (platform() === "ios") return { platform: "ios", appId: document.getElementById("app-id").value.trim(), ...named };
  const fingerprints = document.getElementById("fingerprints").value.split(/\s+/).filter(Boolean);
  return { platform: "android", packageName: document.getElementById("package-name").value.trim(), fingerprints, ...named };
}

for (const radio of form.querySelectorAll("input[name=platform]")) radio.addEventListener("change", showPlatform);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  let added;
  const submit = form.querySelector("button[type=submit]");
  const ok = await act(submit, async () => { added = await change("POST", "/apps", body()); });
  if (!ok) return;
  form.reset();
  showPlatform();
  document.getElementById("secret-app").textContent = added.clientId;
  document.getElementById("secret-value").textContent = added.clientSecret;
  document.getElementById("secret").hidden = false;
  await reload(`${added.clientId} is registered. Copy its client secret now.`);
});
showPlatform();
reload();
