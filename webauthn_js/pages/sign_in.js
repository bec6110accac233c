// Sign in: passkey autofill on the username field, a button, and a path for a security key or
// another device. A button press aborts the pending autofill request first (a page may hold
// only one WebAuthn request at a time).
import { completeSignIn, signIn, startAutofill } from "/static/webauthn.js";
import { busy, say, sayError } from "./common.js";

const form = document.getElementById("sign-in");
const otherDevice = document.getElementById("other-device");
let autofill = null;

function signedIn() {
  say("Signed in. Opening your account…", "ok");
  window.location.assign("/account");
}

function listen() {
  autofill = startAutofill({
    onResult: async (response, options) => {
      try {
        await completeSignIn(response, options);
        signedIn();
      } catch (error) {
        sayError(error);
        autofill = null;
      }
    },
    onError: (error) => {
      autofill = null;
      sayError(error);
    },
  });
}

async function withButton(button, username) {
  if (autofill) autofill.abort();
  say("Follow your browser's prompt to use your passkey.");
  await busy(button, async () => {
    try {
      await signIn(username ? { username } : {});
      signedIn();
    } catch (error) {
      sayError(error);
      autofill = null;
    }
  });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  withButton(document.getElementById("passkey"), form.username.value.trim());
});
otherDevice.addEventListener("click", () => withButton(otherDevice, form.username.value.trim()));
// Autofill starts when the person reaches the field (not at load): a page that is only passed
// through, or a person heading for the buttons, keeps no WebAuthn request pending.
form.username.addEventListener("focus", () => autofill || listen());
