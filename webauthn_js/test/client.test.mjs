// The client of the service (signUp, signIn, addPasskey, completeSignIn, callService) and the
// Signal API. fetch answers with the service's recorded answers (fixtures/service.json);
// navigator.credentials resolves with the recorded responses; PublicKeyCredential's signal
// methods record what they were told.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, test } from "node:test";

import {
  addPasskey,
  callService,
  ProblemError,
  problemOf,
  signalAllAcceptedCredentials,
  signalCurrentUserDetails,
  signalUnknownCredential,
  signIn,
  signUp,
  startAutofill,
} from "../webauthn.js";

const service = JSON.parse(
  readFileSync(new URL("fixtures/service.json", import.meta.url), "utf8"),
);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const ME = { id: 1, username: "ada", displayName: "Ada Lovelace", role: "user" };
const STEP_UP = { code: "step_up_required", title: "A fresh user-verified assertion is needed" };

function setGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}

const json = (body, status = 200, headers = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status < 400 ? "application/json" : "application/problem+json", ...headers },
  });

/** fetch answering from `routes` ("METHOD /path" -> Response[] in order); records requests. */
function fakeService(routes) {
  const requests = [];
  setGlobal("fetch", async (path, init) => {
    const key = `${init.method} ${path}`;
    requests.push({ key, init, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const answer = routes[key]?.shift();
    if (!answer) throw new TypeError(`unexpected ${key}`);
    return answer;
  });
  return requests;
}

/** navigator.credentials resolving each call with the next response JSON (via toJSON). */
function fakeAuthenticator(...responses) {
  const requests = [];
  const answer = async (request) => {
    requests.push(request);
    const next = responses.shift();
    return { ...next, toJSON: () => next };
  };
  setGlobal("navigator", { credentials: { create: answer, get: answer } });
  return requests;
}

/** PublicKeyCredential with the Signal API; each method records its argument. */
function signalAPI() {
  const signals = [];
  const record = (method) => async (details) => signals.push([method, details]);
  setGlobal("PublicKeyCredential", {
    signalUnknownCredential: record("signalUnknownCredential"),
    signalAllAcceptedCredentials: record("signalAllAcceptedCredentials"),
    signalCurrentUserDetails: record("signalCurrentUserDetails"),
    isConditionalMediationAvailable: async () => true,
  });
  return signals;
}

let signals;
beforeEach(() => {
  signals = signalAPI();
});
afterEach(() => {
  for (const name of ["fetch", "navigator", "PublicKeyCredential"]) setGlobal(name, undefined);
});

describe("the service client", () => {
  test("signUp posts options then the registration response, same-origin JSON", async () => {
    const { options, response, result } = service.signUp;
    const requests = fakeService({
      "POST /attestation/options": [json(options)],
      "POST /attestation/result": [json(result)],
    });
    fakeAuthenticator(response);
    assert.deepEqual(await signUp({ username: "ada", displayName: "Ada Lovelace" }), response);
    assert.deepEqual(
      requests.map((r) => [r.key, r.body]),
      [
        ["POST /attestation/options", { username: "ada", displayName: "Ada Lovelace" }],
        ["POST /attestation/result", response],
      ],
    );
    for (const { init } of requests) {
      assert.equal(init.credentials, "same-origin");
      assert.equal(init.headers["Content-Type"], "application/json");
    }
    assert.deepEqual(signals, []);
  });

  test("signUp without a display name uses the username", async () => {
    const requests = fakeService({ "POST /attestation/options": [json(STEP_UP, 401)] });
    await assert.rejects(signUp({ username: "ada" }), ProblemError);
    assert.deepEqual(requests[0].body, { username: "ada", displayName: "ada" });
  });

  test("signIn by username and discoverable, with the recorded answers", async () => {
    for (const [account, recorded, body] of [
      [{ username: "ada" }, service.signIn, { username: "ada" }],
      [{}, service.discoverable, {}],
    ]) {
      const requests = fakeService({
        "POST /assertion/options": [json(recorded.options)],
        "POST /assertion/result": [json(recorded.result)],
      });
      const asked = fakeAuthenticator(recorded.response);
      assert.deepEqual(await signIn(account), recorded.response);
      assert.deepEqual(requests[0].body, body);
      assert.deepEqual(requests[1].body, recorded.response);
      assert.equal(asked[0].mediation, undefined); // a button: a modal request
    }
    assert.deepEqual(signals, []);
  });

  test("a sign-in failing with credential_unknown signals it, then throws the problem", async () => {
    const { options, response, problem, httpStatus } = service.unknownCredential;
    fakeService({
      "POST /assertion/options": [json(options)],
      "POST /assertion/result": [json(problem, httpStatus)],
    });
    fakeAuthenticator(response);
    const error = await signIn().catch((e) => e);
    assert.ok(error instanceof ProblemError);
    assert.equal(error.code, "credential_unknown");
    assert.equal(error.status, 400); // the HTTP status, not the conformance body's "failed"
    assert.equal(error.detail, problem.detail);
    assert.deepEqual(signals, [
      ["signalUnknownCredential", { rpId: "localhost", credentialId: response.id }],
    ]);
  });

  test("other sign-in failures signal nothing", async () => {
    for (const code of ["signature_invalid", "challenge_expired", "user_not_verified"]) {
      fakeService({
        "POST /assertion/options": [json(service.signIn.options)],
        "POST /assertion/result": [json({ code, status: "failed" }, 400)],
      });
      fakeAuthenticator(service.signIn.response);
      await assert.rejects(signIn({ username: "ada" }), { code });
    }
    assert.deepEqual(signals, []);
  });

  test("a sign-in failing with credential_unknown throws even without the Signal API", async () => {
    const { options, response, problem, httpStatus } = service.unknownCredential;
    setGlobal("PublicKeyCredential", {}); // e.g. Firefox
    fakeService({
      "POST /assertion/options": [json(options)],
      "POST /assertion/result": [json(problem, httpStatus)],
    });
    fakeAuthenticator(response);
    await assert.rejects(signIn(), { code: "credential_unknown" });
  });

  test("addPasskey steps up when the service asks, then registers", async () => {
    const { options, response, result } = service.addPasskey;
    const requests = fakeService({
      "GET /api/v1/me": [json(ME)],
      "POST /attestation/options": [json(STEP_UP, 401), json(options)],
      "POST /assertion/options": [json(service.signIn.options)],
      "POST /assertion/result": [json(service.signIn.result)],
      "POST /attestation/result": [json(result)],
    });
    const asked = fakeAuthenticator(service.signIn.response, response);
    assert.deepEqual(await addPasskey(), response);
    assert.deepEqual(
      requests.map((r) => r.key),
      [
        "GET /api/v1/me",
        "POST /attestation/options",
        "POST /assertion/options",
        "POST /assertion/result",
        "POST /attestation/options",
        "POST /attestation/result",
      ],
    );
    assert.deepEqual(requests[2].body, { username: "ada", userVerification: "required" });
    assert.deepEqual(requests[4].body, { username: "ada", displayName: "Ada Lovelace" });
    assert.equal(requests[0].init.body, undefined);
    assert.equal(asked.length, 2);
  });

  test("addPasskey without a step-up asks for no assertion; other problems are thrown", async () => {
    const { options, response, result } = service.addPasskey;
    const requests = fakeService({
      "GET /api/v1/me": [json(ME), json(ME)],
      "POST /attestation/options": [json(options), json({ code: "conflict" }, 409)],
      "POST /attestation/result": [json(result)],
    });
    fakeAuthenticator(response);
    await addPasskey();
    assert.ok(!requests.some((r) => r.key.startsWith("POST /assertion")));
    await assert.rejects(addPasskey(), { code: "conflict", status: 409 });
  });

  test("a button's signIn ends autofill before it asks for options", async () => {
    let autofillSignal;
    startAutofill({
      fetchOptions: ({ signal }) => {
        autofillSignal = signal;
        return new Promise(() => {}); // the service has not answered yet
      },
      onResult: () => assert.fail("no autofill result"),
      onError: (error) => assert.fail(`no error shown: ${error}`),
    });
    await tick();
    fakeService({
      "POST /assertion/options": [json(service.signIn.options)],
      "POST /assertion/result": [json(service.signIn.result)],
    });
    const answer = globalThis.fetch;
    let endedFirst;
    setGlobal("fetch", (path, init) => {
      endedFirst ??= autofillSignal.aborted;
      return answer(path, init);
    });
    fakeAuthenticator(service.signIn.response);
    assert.deepEqual(await signIn({ username: "ada" }), service.signIn.response);
    assert.equal(endedFirst, true);
  });
});

describe("callService and problemOf", () => {
  test("a 429 carries Retry-After in seconds, as a number or an HTTP date", async () => {
    fakeService({
      "POST /assertion/options": [
        json({ code: "rate_limited" }, 429, { "Retry-After": "30" }),
        json({ code: "rate_limited" }, 429, {
          "Retry-After": new Date(Date.now() + 120_000).toUTCString(),
        }),
      ],
    });
    const first = await callService("POST", "/assertion/options", {}).catch((e) => e);
    assert.equal(first.retryAfter, 30);
    const second = await callService("POST", "/assertion/options", {}).catch((e) => e);
    assert.ok(second.retryAfter > 100 && second.retryAfter <= 120, String(second.retryAfter));
  });

  test("a body that is not JSON still gives a problem with the HTTP status", async () => {
    const page = new Response("<h1>Bad gateway</h1>", { status: 502 });
    assert.deepEqual(await problemOf(page), { status: 502, retryAfter: undefined });
    assert.equal(await problemOf(json({ ok: 1 })), null);
  });

  test("204 is null; an unreachable service is a NetworkError; an abort stays an abort", async () => {
    fakeService({ "DELETE /api/v1/me/sessions": [new Response(null, { status: 204 })] });
    assert.equal(await callService("DELETE", "/api/v1/me/sessions"), null);
    setGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    await assert.rejects(callService("GET", "/api/v1/me"), { name: "NetworkError" });
    setGlobal("fetch", async () => {
      throw new DOMException("stopped", "AbortError");
    });
    await assert.rejects(callService("GET", "/api/v1/me"), { name: "AbortError" });
  });
});

describe("the Signal API", () => {
  const rpId = "localhost";
  const userId = service.signUp.options.user.id;
  const ids = [service.signUp.response.id];

  test("each signal passes exactly the spec's members", async () => {
    assert.equal(await signalUnknownCredential({ rpId, credentialId: ids[0], extra: 1 }), true);
    assert.equal(
      await signalAllAcceptedCredentials({ rpId, userId, allAcceptedCredentialIds: ids }),
      true,
    );
    assert.equal(
      await signalCurrentUserDetails({ rpId, userId, name: "ada", displayName: "Ada L." }),
      true,
    );
    assert.deepEqual(signals, [
      ["signalUnknownCredential", { rpId, credentialId: ids[0] }],
      ["signalAllAcceptedCredentials", { rpId, userId, allAcceptedCredentialIds: ids }],
      ["signalCurrentUserDetails", { rpId, userId, name: "ada", displayName: "Ada L." }],
    ]);
  });

  test("absent, rejecting or throwing signals are no-ops that never throw", async () => {
    const calls = [
      () => signalUnknownCredential({ rpId, credentialId: ids[0] }),
      () => signalAllAcceptedCredentials({ rpId, userId, allAcceptedCredentialIds: ids }),
      () => signalCurrentUserDetails({ rpId, userId, name: "ada", displayName: "Ada" }),
    ];
    const failing = {
      signalUnknownCredential: async () => {
        throw new DOMException("wrong RP ID", "SecurityError");
      },
      signalAllAcceptedCredentials: () => {
        throw new TypeError("not base64url");
      },
      signalCurrentUserDetails: () => Promise.reject(new DOMException("", "NotAllowedError")),
    };
    for (const pkc of [undefined, {}, failing]) {
      setGlobal("PublicKeyCredential", pkc);
      for (const call of calls) assert.equal(await call(), false);
    }
  });
});
