// Every failure a person can meet has its own plain-language sentence: each DOMException name
// a WebAuthn call or the service client rejects with, each problem code of the contract and
// each policy reason (the lists in fixtures/codes.json are kept equal to the service's own by
// tests/unit/test_webauthn_js_codes.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { messageFor, ProblemError } from "../webauthn.js";

const codes = JSON.parse(readFileSync(new URL("fixtures/codes.json", import.meta.url), "utf8"));
const service = JSON.parse(
  readFileSync(new URL("fixtures/service.json", import.meta.url), "utf8"),
);

// WebAuthn Level 3 §5.1.3/§5.1.4 and the JSON parsers, what Chromium, Safari and Firefox raise
// besides, and NetworkError (the client's own, when the service cannot be reached)
const DOM_EXCEPTIONS = [
  "NotAllowedError",
  "AbortError",
  "InvalidStateError",
  "SecurityError",
  "NotSupportedError",
  "ConstraintError",
  "UnknownError",
  "NotReadableError",
  "TypeError",
  "EncodingError",
  "NetworkError",
];
const FALLBACK = messageFor(new Error("anything else"));
// protocol words a person should never have to read
const JARGON = /webauthn|credential|assertion|attestation|aaguid|rp ?id|challenge|origin|cose|cbor|\bdom|\b[a-z]+_[a-z_]+\b/i;

function checkSentence(message, what) {
  assert.equal(typeof message, "string", what);
  assert.notEqual(message, FALLBACK, `${what} falls back to the general sentence`);
  assert.match(message, /^[A-Z].*[.!]$/s, `${what}: "${message}" is not a sentence`);
  assert.doesNotMatch(message, JARGON, `${what}: "${message}" uses jargon`);
}

describe("messageFor", () => {
  test("the code list is the service's (and has the codes this module relies on)", () => {
    for (const code of ["credential_unknown", "step_up_required", "rate_limited", "policy_denied"]) {
      assert.ok(codes.problemCodes.includes(code), code);
    }
    assert.ok(codes.policyReasons.includes("user_verification_required"));
  });

  test("every DOMException name has its own sentence", () => {
    for (const name of DOM_EXCEPTIONS) {
      checkSentence(messageFor(new DOMException("browser text", name)), name);
    }
    checkSentence(messageFor(new TypeError("bad options")), "a plain TypeError");
    const messages = DOM_EXCEPTIONS.map((name) => messageFor(new DOMException("", name)));
    // the two "could not read the request" names share one sentence; all others differ
    assert.equal(new Set(messages).size, DOM_EXCEPTIONS.length - 1);
  });

  test("every problem code has its own sentence, as a Problem or a ProblemError", () => {
    const seen = new Set();
    for (const code of codes.problemCodes) {
      const problem = { code, status: 400, detail: "developer text" };
      const message = messageFor(problem);
      checkSentence(message, code);
      assert.equal(messageFor(new ProblemError(problem)), message, code);
      seen.add(message);
    }
    assert.equal(seen.size, codes.problemCodes.length);
  });

  test("the problem code wins over the DOMException's numeric code", () => {
    const error = new DOMException("", "InvalidStateError");
    assert.equal(typeof error.code, "number");
    assert.equal(messageFor(error), messageFor({ name: "InvalidStateError" }));
  });

  test("a real problem body of the service gets its sentence", () => {
    const { problem, httpStatus } = service.unknownCredential;
    assert.equal(problem.status, "failed"); // the conformance endpoints' string status
    const message = messageFor(new ProblemError({ ...problem, status: httpStatus }));
    assert.equal(message, messageFor({ code: "credential_unknown" }));
  });

  test("every policy reason is explained, and all reasons are given", () => {
    for (const code of codes.policyReasons) {
      const message = messageFor({ code: "policy_denied", reasons: [{ code, message: "admin" }] });
      checkSentence(message, code);
      assert.notEqual(message, messageFor({ code: "policy_denied" }), code);
    }
    const two = messageFor({
      code: "policy_denied",
      reasons: [{ code: "user_verification_required" }, { code: "backup_eligible_not_allowed" }],
    });
    assert.match(two, /fingerprint, face, PIN or screen lock; only passkeys that stay on one/);
    const unknown = messageFor({ code: "policy_denied", reasons: [{ code: "new_rule" }] });
    assert.equal(unknown, messageFor({ code: "policy_denied" }));
  });

  test("rate_limited says how long to wait when Retry-After says so", () => {
    const wait = (retryAfter) => messageFor({ code: "rate_limited", status: 429, retryAfter });
    assert.match(wait(1), /wait a second\b/);
    assert.match(wait(30), /wait 30 seconds\b/);
    assert.match(wait(600), /wait 10 minutes\b/);
    assert.match(wait(7200), /wait 2 hours\b/);
    assert.equal(wait(undefined), messageFor({ code: "rate_limited" }));
    checkSentence(wait(30), "rate_limited with Retry-After");
  });

  test("anything else gets a general sentence; a 5xx without a code says the service", () => {
    for (const odd of [undefined, null, "text", 42, {}, { code: "no_such_code" }]) {
      assert.equal(messageFor(odd), FALLBACK);
    }
    checkSentence(messageFor({ status: 502 }), "a proxy's 502");
    assert.equal(messageFor({ status: 502 }), messageFor({ code: "unavailable" }));
  });
});
