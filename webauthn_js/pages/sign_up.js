// Sign up: a username, a display name, one passkey; the service signs the new account in.
import { signUp } from "/static/webauthn.js";
import { busy, say, sayError } from "./common.js";

const form = document.getElementById("sign-up");
const button = document.getElementById("create");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const displayName = form["display-name"].value.trim() || username;
  if (!username) {
    say("Enter a username first.", "error");
    form.username.focus();
    return;
  }
  say("Follow your browser's prompt to create your passkey.");
  await busy(button, async () => {
    try {
      await signUp({ username, displayName });
      say("Your passkey is ready. Opening your account…", "ok");
      window.location.assign("/account");
    } catch (error) {
      sayError(error);
    }
  });
});
