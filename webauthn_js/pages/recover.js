// Recover an account without a passkey: an admin's one-time link (`/recover#<token>`), or a
// recovery code typed with the username. Either signs this browser in as a *recovered*
// session, which the account page then walks through adding a new passkey.
import { callService as call } from "/static/webauthn.js";
import { busy, say, sayError } from "./common.js";

// The service answers every refused code or link alike (`unauthenticated`), so that a
// guesser learns nothing; the person is told the likely reasons in words.
const LINK_REFUSED =
  "This recovery link can't be used: it was already used, replaced by a newer link, or has " +
  "expired. Ask your administrator for a new one, or use a recovery code below.";
const CODE_REFUSED =
  "That username and recovery code don't match an unused code. Check both (each code works " +
  "only once) and try again.";

function recovered() {
  say("You're back in. Opening your account so you can add a passkey…", "ok");
  window.location.assign("/account");
}

function explain(error, refused) {
  if (error?.code === "unauthenticated" || error?.code === "malformed") say(refused, "error");
  else sayError(error);
}

async function useLink(token) {
  const card = document.getElementById("link-card");
  card.hidden = false;
  // the token is a one-time secret: keep it out of the address bar, history and bookmarks
  history.replaceState(null, "", window.location.pathname);
  try {
    await call("POST", "/api/v1/recovery/link", { token });
    recovered();
  } catch (error) {
    document.getElementById("link-heading").textContent = "This recovery link didn't work";
    document.getElementById("link-text").textContent =
      "Nothing was changed. You can use a recovery code instead.";
    explain(error, LINK_REFUSED);
  }
}

const form = document.getElementById("recover-code");
const button = document.getElementById("use-code");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const code = form.code.value.trim();
  const missing = !username ? form.username : !code ? form.code : null;
  if (missing) {
    say(`Enter your ${missing === form.code ? "recovery code" : "username"} first.`, "error");
    missing.focus();
    return;
  }
  await busy(button, async () => {
    try {
      await call("POST", "/api/v1/recovery/code", { username, code });
      recovered();
    } catch (error) {
      explain(error, CODE_REFUSED);
    }
  });
});

const token = window.location.hash.slice(1);
if (token) useLink(token).catch(sayError);
