// The account page's "Recovery codes" section: how many are left, and a new set made with a
// step-up and shown exactly once (the service keeps only their hashes), to copy or print.
import { callService as call } from "/static/webauthn.js";
import { busy, say, sayError, withStepUp } from "./common.js";

const CODES = "/api/v1/me/recovery-codes";
const section = document.getElementById("recovery");
const shown = document.getElementById("codes-shown");
const list = document.getElementById("codes");
const make = document.getElementById("make-codes");

function count({ remaining, generatedAt }) {
  const line = document.getElementById("recovery-count");
  if (remaining > 0) {
    const made = new Date(generatedAt).toLocaleDateString();
    line.textContent = `You have ${remaining} unused recovery code${remaining === 1 ? "" : "s"} (made ${made}).`;
  } else {
    line.textContent = generatedAt
      ? "You have used all your recovery codes. Make new ones."
      : "You have no recovery codes yet.";
  }
  make.textContent = remaining > 0 ? "Replace with new recovery codes" : "Make recovery codes";
}

/**
 * Draw the section, or hide it: where the person's policy turns codes off, and in a
 * recovered session (making codes needs a step-up, which only a passkey sign-in gives).
 */
export async function loadRecoveryCodes({ recovered }) {
  const status = await call("GET", CODES);
  section.hidden = recovered || !status.allowed;
  if (!section.hidden) count(status);
}

function show(codes) {
  list.replaceChildren(...codes.map((code) => Object.assign(document.createElement("li"), { textContent: code })));
  shown.hidden = false;
  document.getElementById("codes-heading").focus();
}

make.addEventListener("click", () => busy(make, async () => {
  try {
    const made = await withStepUp(() => call("POST", CODES));
    show(made.codes);
    count(made);
    say("Your new recovery codes are below. Save them now: they won't be shown again.", "ok");
  } catch (error) {
    sayError(error);
  }
}));

document.getElementById("copy-codes").addEventListener("click", async () => {
  const codes = [...list.children].map((item) => item.textContent).join("\n");
  try {
    await navigator.clipboard.writeText(codes);
    say("Copied. Paste them somewhere safe, such as a password manager.", "ok");
  } catch {
    say("This browser wouldn't copy them. Select the codes and copy them yourself, or print them.", "error");
  }
});
document.getElementById("print-codes").addEventListener("click", () => window.print());
document.getElementById("codes-done").addEventListener("click", () => {
  list.replaceChildren(); // gone from the page too, not only hidden
  shown.hidden = true;
  make.focus();
});
