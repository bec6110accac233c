/**
 * The plain-language sentence for every failure a person can meet in a passkey flow: each
 * DOMException a WebAuthn call (or the service client of `webauthn.js`) rejects with, each
 * problem `code` of the service's contract, and each reason a policy gives for refusing.
 *
 * Kept apart from `webauthn.js` because it is copy, not mechanics: it changes when the
 * contract gains a code or the wording is improved, and its test checks it against the
 * service's own lists (`test/fixtures/codes.json`). No sentence names a protocol term; each
 * says what happened and what the person can do next.
 *
 * @module messages
 */

/** Every DOMException a WebAuthn call (or our client) rejects with, in words a person reads. */
const BROWSER_MESSAGES = {
  NotAllowedError:
    "The passkey request was cancelled or took too long. Nothing was changed; you can try again.",
  AbortError: "The passkey request was stopped before it finished. You can try again.",
  InvalidStateError:
    "This device or security key already has a passkey for this account. " +
    "Use it to sign in, or choose another device.",
  SecurityError:
    "Passkeys can't be used on this page's address. Open the site at its usual address " +
    "and try again.",
  NotSupportedError:
    "This browser or device can't make the kind of passkey this site needs. " +
    "Try another browser, device or security key.",
  ConstraintError:
    "This device can't do what this site asks, such as checking your fingerprint, face " +
    "or PIN. Try another device or security key.",
  UnknownError: "Your device had a problem with the passkey. Try again, or use another device.",
  NotReadableError:
    "Your browser couldn't reach the app that keeps your passkeys. Try again, or restart " +
    "the browser.",
  TypeError: "The browser couldn't read this site's passkey request. Reload the page and try again.",
  EncodingError:
    "The browser couldn't read this site's passkey request. Reload the page and try again.",
  NetworkError: "We couldn't reach the service. Check your internet connection and try again.",
};

/** Every problem `code` of the service's contract (README "Error codes"). */
const PROBLEM_MESSAGES = {
  internal: "Something went wrong on our side. Please try again in a moment.",
  malformed:
    "That wasn't accepted. Check what you typed (a username is letters and numbers, with no " +
    "spaces) and try again; if it keeps happening, reload the page.",
  payload_too_large: "That was more than we accept at once. Shorten it and try again.",
  challenge_unknown:
    "This attempt is no longer open; it may have been used already or replaced in another " +
    "tab. Please start again.",
  challenge_expired: "That took too long and the request expired. Please start again.",
  challenge_mismatch: "Your passkey answered an older request. Please start again.",
  type_mismatch: "Your browser sent the wrong kind of answer. Please start again.",
  origin_mismatch:
    "Passkeys for this site can't be used from this address. Open the site at its usual " +
    "address and try again.",
  rp_id_mismatch: "That passkey is for a different website. Choose a passkey saved for this site.",
  user_not_present:
    "Your device didn't confirm you were there. Try again, and touch or confirm on the " +
    "device when it asks.",
  user_not_verified:
    "This needs you to confirm it's you with your fingerprint, face, PIN or screen lock. " +
    "Try again and finish that step, or use a device that can.",
  backup_state_invalid:
    "Your passkey reported its backup in a way we can't accept. Try another passkey or device.",
  unsupported_algorithm:
    "Your device uses a kind of security this site doesn't accept. Try another device or " +
    "security key.",
  attestation_invalid:
    "We couldn't confirm that this device is genuine. Try another device or security key.",
  attestation_untrusted:
    "This site only accepts approved devices, and this one couldn't be confirmed as one. " +
    "Try another device or security key.",
  credential_excluded: "This passkey is already registered. You can use it to sign in.",
  credential_unknown:
    "We don't recognise that passkey; it may have been removed from your account. Choose " +
    "another passkey, or sign in another way.",
  user_handle_mismatch:
    "That passkey belongs to a different account. Choose the passkey for this account.",
  signature_invalid: "We couldn't check your passkey's answer. Try again, or use another passkey.",
  sign_count_regressed:
    "This passkey looks like it may have been copied, so it wasn't accepted. Use another " +
    "passkey, and contact support if this happens again.",
  policy_denied: "Your organisation's rules don't allow this passkey or device here.",
  unauthenticated: "You're not signed in, or your session has ended. Please sign in again.",
  step_up_required:
    "For your security, confirm it's you with your passkey again before making this change.",
  forbidden: "You don't have permission to do that.",
  not_found: "We couldn't find that. It may have been removed already.",
  method_not_allowed: "That action isn't available here. Reload the page and try again.",
  conflict:
    "That clashes with something already saved (for example, the username is taken or the " +
    "limit of passkeys is reached). Change it and try again.",
  rate_limited: "There have been too many attempts. Please wait a while and try again.",
  unavailable:
    "The service is having trouble right now. Nothing was changed; please try again in a " +
    "few minutes.",
  token_invalid: "Your sign-in has ended. Please sign in again.",
  dpop_invalid: "This app couldn't prove it holds its key. Please sign in again.",
  dpop_nonce_required: "The app needs to retry this request. Please try again.",
};

/** Why a policy refused (`reasons[].code` of `policy_denied`), as the end of a sentence. */
const POLICY_REASONS = {
  authenticator_compromised: "this kind of device has a known security problem",
  aaguid_denied: "this kind of device isn't allowed",
  attestation_not_trusted: "the device couldn't prove it is an approved model",
  aaguid_not_proven: "the device couldn't prove which model it is",
  aaguid_not_allowed: "this device model isn't on the approved list",
  certification_too_low: "this device model isn't certified to the level required",
  modality_not_allowed: "this device doesn't offer an accepted way to confirm it's you",
  false_accept_rate_unknown: "the accuracy of this device's fingerprint or face check is unknown",
  false_accept_rate_too_high: "this device's fingerprint or face check isn't accurate enough",
  algorithm_not_allowed: "the device uses a kind of security that isn't allowed",
  user_verification_required:
    "you need to confirm it's you with your fingerprint, face, PIN or screen lock",
  attachment_not_allowed: "this kind of device (built-in or a separate security key) isn't allowed",
  backup_eligible_not_allowed:
    "only passkeys that stay on one device are allowed, not ones synced between devices",
  recovery_codes_not_allowed: "recovery codes can't be used for this account",
  recovery_links_not_allowed: "recovery links can't be used for this account",
};

const FALLBACK_MESSAGE = "Something went wrong. Please try again.";

function waitFor(/** @type {number} */ seconds) {
  if (seconds < 90) return seconds <= 1 ? "a second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 90 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`;
}

/**
 * A sentence for a person: for a DOMException from the browser, a ProblemError, a Problem
 * object, or anything else thrown (which gets a general sentence).
 * @param {unknown} errorOrProblem
 * @returns {string}
 */
export function messageFor(errorOrProblem) {
  const failure = /** @type {any} */ (errorOrProblem ?? {});
  const code = typeof failure.code === "string" ? failure.code : undefined; // DOMException.code is a number
  if (code === "rate_limited" && Number.isFinite(failure.retryAfter)) {
    return `There have been too many attempts. Please wait ${waitFor(failure.retryAfter)} and try again.`;
  }
  if (code === "policy_denied") {
    const reasons = (failure.problem ?? failure).reasons ?? [];
    const known = reasons.map((/** @type {any} */ r) => POLICY_REASONS[r?.code]).filter(Boolean);
    if (known.length) return `Your organisation's rules don't allow this: ${known.join("; ")}.`;
  }
  if (code !== undefined && Object.hasOwn(PROBLEM_MESSAGES, code)) return PROBLEM_MESSAGES[code];
  if (Object.hasOwn(BROWSER_MESSAGES, failure.name)) return BROWSER_MESSAGES[failure.name];
  if (typeof failure.status === "number" && failure.status >= 500) return PROBLEM_MESSAGES.unavailable;
  return FALLBACK_MESSAGE;
}
