// The account page: the person's passkeys (rename, delete, add another), recovery codes and
// sessions. Every change is a JSON fetch(); one that needs a fresh user-verified assertion
// runs the step-up on this session and is retried once (see common.js). After a delete or a
// rename the browser's credential manager is told (Signal API), so it stops offering a
// deleted passkey and shows the account's current names. A recovered session (signed in
// with a recovery code or link) is offered one thing: add a passkey, then sign in with it.
import {
  addPasskey,
  callService as call,
  signalAllAcceptedCredentials,
  signalCurrentUserDetails,
  stepUp,
} from "/static/webauthn.js";
import { busy, say, sayError, withStepUp } from "./common.js";
import { loadRecoveryCodes } from "./recovery_codes.js";

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

function passkeyItem(credential, recovered) {
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
  // a recovered session could not rename or delete (step_up_required): offer neither
  const actions = el("div", { className: "actions" }, ...(recovered ? [] : [rename, remove]));
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
        await signalCurrentUserDetails({
          rpId: me.rpId,
          userId: me.userHandle,
          name: me.username,
          displayName: me.displayName,
        });
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
      const remaining = await load(); // null when the delete ended this session
      if (remaining) {
        await signalAllAcceptedCredentials({
          rpId: me.rpId,
          userId: me.userHandle,
          allAcceptedCredentialIds: remaining.filter((c) => c.status === "active").map((c) => c.credentialId),
        });
      }
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

/**
 * A recovered session first adds a passkey, then signs in with it (which ends the recovered
 * state). A passkey made since this session began is the sign that the first step is done,
 * so a reload in between lands on the second.
 */
function showRecovery(credentials) {
  const recovered = me.session.recovered;
  const began = Date.parse(me.session.signedInAt);
  const added = credentials.some((c) => c.status === "active" && Date.parse(c.createdAt) >= began);
  document.getElementById("recovered").hidden = !recovered;
  document.getElementById("recovered-add").hidden = added;
  document.getElementById("recovered-sign-in").hidden = !added;
  document.getElementById("add-passkey").hidden = recovered;
  return recovered;
}

/**
 * (Re)draw the page from the API; `focusLabel` puts focus back on the control it names.
 * Returns the credentials shown, or null when there is no session any more.
 */
async function load(focusLabel) {
  try {
    me = await call("GET", "/api/v1/me");
  } catch (error) {
    if (error.status === 401) window.location.assign("/");
    else sayError(error);
    return null;
  }
  const [{ credentials }, { sessions }] = await Promise.all([
    call("GET", "/api/v1/me/credentials"),
    call("GET", "/api/v1/me/sessions"),
  ]);
  const recovered = showRecovery(credentials);
  document.getElementById("welcome").textContent = `Signed in as ${me.displayName} (${me.username}).`;
  document.getElementById("nudge").hidden = recovered || credentials.length !== 1;
  document.getElementById("passkeys").replaceChildren(...credentials.map((c) => passkeyItem(c, recovered)));
  document.getElementById("sessions").replaceChildren(...sessions.map(sessionItem));
  await loadRecoveryCodes({ recovered });
  if (focusLabel) document.querySelector(`[aria-label="${CSS.escape(focusLabel)}"]`)?.focus();
  return credentials;
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

const recoveredAdd = document.getElementById("recovered-add");
recoveredAdd.addEventListener("click", () => busy(recoveredAdd, async () => {
  say("Follow your browser's prompt to create your new passkey.");
  try {
    await addPasskey(); // a recovered session may add one without a step-up
    await load();
    say("Your new passkey is ready. Now sign in with it to unlock your account.", "ok");
    document.getElementById("recovered-sign-in").focus();
  } catch (error) {
    sayError(error);
  }
}));

const recoveredSignIn = document.getElementById("recovered-sign-in");
recoveredSignIn.addEventListener("click", () => busy(recoveredSignIn, async () => {
  say("Follow your browser's prompt to use your new passkey.");
  try {
    await stepUp(); // a user-verified sign-in on this session ends its recovered state
    await load();
    say("You're signed in with your new passkey. Your account is fully unlocked.", "ok");
    document.getElementById("main").focus();
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
