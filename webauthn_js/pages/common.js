// What every page shares: the status line (aria-live, so a screen reader hears each message),
// and the retry of an account change after the step-up the service may ask for.
import { messageFor, stepUp } from "/static/webauthn.js";

/** Say something in the page's live region; `kind` is "error", "ok" or "" (progress). */
export function say(text, kind = "") {
  const line = document.getElementById("status");
  line.className = kind ? `status ${kind}` : "status";
  line.textContent = text;
}

/** Show the plain-language message for a DOMException or a problem+json error. */
export function sayError(error) {
  say(messageFor(error), "error");
}

/**
 * Run `action`; when the service answers `step_up_required` (the sign-in was too long ago or
 * without user verification), run a user-verified sign-in on this session and retry once.
 */
export async function withStepUp(action) {
  try {
    return await action();
  } catch (error) {
    if (error.code !== "step_up_required") throw error;
    say("Confirm it's you: unlock your passkey to continue.");
    await stepUp();
    return action();
  }
}

/** Disable `button` while `work` runs, so a double click starts one ceremony, not two. */
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}
