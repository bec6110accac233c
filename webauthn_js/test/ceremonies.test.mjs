// register / authenticate / passkey autofill / feature detection against a fake of the
// browser's interface: navigator.credentials whose requests stay pending until the test
// settles them, and reject with the signal's reason when aborted, as browsers do.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, test } from "node:test";

import { authenticate, capabilities, register, startAutofill } from "../webauthn.js";

const service = JSON.parse(
  readFileSync(new URL("fixtures/service.json", import.meta.url), "utf8"),
);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function setGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}

/** navigator.credentials: every call is kept in `calls` with its request and settlers. */
function fakeCredentials() {
  const calls = [];
  const call = (kind) => (request) =>
    new Promise((resolve, reject) => {
      const entry = { kind, request, resolve, reject, aborted: false };
      calls.push(entry);
      request.signal?.addEventListener("abort", () => {
        entry.aborted = true;
        reject(request.signal.reason);
      });
    });
  setGlobal("navigator", { credentials: { create: call("create"), get: call("get") } });
  return calls;
}

/** A credential as a browser with toJSON() resolves it. */
const credential = (json) => ({ ...json, toJSON: () => json });

function withConditionalMediation(available) {
  setGlobal("PublicKeyCredential", { isConditionalMediationAvailable: async () => available });
}

let calls;
beforeEach(() => {
  calls = fakeCredentials();
});
afterEach(async () => {
  // settle what a test left pending, so the module's one request in flight is over
  for (const call of calls) call.reject(new DOMException("The test is over.", "AbortError"));
  await tick();
  setGlobal("PublicKeyCredential", undefined);
  setGlobal("navigator", undefined);
});

describe("register and authenticate", () => {
  test("register passes decoded options and a signal, and returns the response JSON", async () => {
    const done = register(service.addPasskey.options);
    await tick();
    assert.equal(calls.length, 1);
    const { kind, request } = calls[0];
    assert.equal(kind, "create");
    assert.ok(request.publicKey.challenge instanceof ArrayBuffer);
    assert.equal(request.publicKey.excludeCredentials.length, 1);
    assert.ok(request.signal instanceof AbortSignal);
    calls[0].resolve(credential(service.addPasskey.response));
    assert.deepEqual(await done, service.addPasskey.response);
  });

  test("a modal sign-in keeps allowCredentials and sets no mediation", async () => {
    const done = authenticate(service.signIn.options);
    await tick();
    const { request } = calls[0];
    assert.equal(request.publicKey.allowCredentials.length, 2);
    assert.ok(!("mediation" in request));
    calls[0].resolve(credential(service.signIn.response));
    assert.deepEqual(await done, service.signIn.response);
  });

  test("a conditional sign-in empties allowCredentials", async () => {
    authenticate(service.signIn.options, { mediation: "conditional" });
    await tick();
    assert.equal(calls[0].request.mediation, "conditional");
    assert.deepEqual(calls[0].request.publicKey.allowCredentials, []);
    calls[0].resolve(credential(service.signIn.response));
  });

  test("the caller's signal aborts the request", async () => {
    const controller = new AbortController();
    const done = register(service.signUp.options, { signal: controller.signal });
    await tick();
    controller.abort();
    await assert.rejects(done, { name: "AbortError" });
    assert.ok(calls[0].aborted);
  });

  test("a dismissed prompt that resolves with null is a NotAllowedError", async () => {
    const done = authenticate(service.discoverable.options);
    await tick();
    calls[0].resolve(null);
    await assert.rejects(done, { name: "NotAllowedError" });
  });

  test("a new request aborts the one in flight", async () => {
    const first = assert.rejects(register(service.signUp.options), { name: "AbortError" });
    await tick();
    authenticate(service.discoverable.options).catch(() => {}); // settled by afterEach
    await tick();
    await first;
    assert.deepEqual(
      calls.map((c) => [c.kind, c.aborted]),
      [["create", true], ["get", false]],
    );
  });
});

describe("passkey autofill", () => {
  test("starts a conditional request with fresh options from fetchOptions", async () => {
    withConditionalMediation(true);
    let fetched = 0;
    const results = [];
    startAutofill({
      fetchOptions: async () => {
        fetched += 1;
        return service.discoverable.options;
      },
      onResult: (response, options) => results.push([response, options]),
    });
    await tick();
    assert.equal(fetched, 1);
    assert.equal(calls[0].request.mediation, "conditional");
    calls[0].resolve(credential(service.discoverable.response));
    await tick();
    assert.deepEqual(results, [[service.discoverable.response, service.discoverable.options]]);
  });

  test("a button's sign-in aborts the pending autofill; its AbortError is not shown", async () => {
    withConditionalMediation(true);
    const errors = [];
    const results = [];
    startAutofill({
      fetchOptions: async () => service.discoverable.options,
      onResult: (response) => results.push(response),
      onError: (error) => errors.push(error),
    });
    await tick();
    const button = authenticate(service.signIn.options); // the button's modal request
    await tick();
    assert.deepEqual(
      calls.map((c) => [c.request.mediation ?? "modal", c.aborted]),
      [["conditional", true], ["modal", false]],
    );
    calls[1].resolve(credential(service.signIn.response));
    assert.deepEqual(await button, service.signIn.response);
    await tick();
    assert.deepEqual(errors, []);
    assert.deepEqual(results, []);
  });

  test("abort() cancels the request without an error", async () => {
    withConditionalMediation(true);
    const errors = [];
    const autofill = startAutofill({
      fetchOptions: async () => service.discoverable.options,
      onResult: () => assert.fail("no result after abort"),
      onError: (error) => errors.push(error),
    });
    await tick();
    autofill.abort();
    await tick();
    assert.ok(calls[0].aborted);
    assert.deepEqual(errors, []);
  });

  test("abort() before the options arrive starts no request", async () => {
    withConditionalMediation(true);
    let release;
    const autofill = startAutofill({
      fetchOptions: () => new Promise((resolve) => (release = resolve)),
      onResult: () => assert.fail("no result after abort"),
      onError: (error) => assert.fail(`no error after abort: ${error}`),
    });
    await tick();
    autofill.abort();
    release(service.discoverable.options);
    await tick();
    assert.equal(calls.length, 0);
  });

  test("a button pressed while autofill fetches: the late options abort nothing", async () => {
    withConditionalMediation(true);
    let release;
    startAutofill({
      fetchOptions: () => new Promise((resolve) => (release = resolve)),
      onResult: () => assert.fail("no result after the button"),
      onError: (error) => assert.fail(`no error shown: ${error}`),
    });
    await tick();
    const button = authenticate(service.signIn.options);
    release(service.discoverable.options);
    await tick();
    assert.deepEqual(
      calls.map((c) => [c.request.mediation ?? "modal", c.aborted]),
      [["modal", false]],
    );
    calls[0].resolve(credential(service.signIn.response));
    assert.deepEqual(await button, service.signIn.response);
  });

  test("autofill never aborts a button's request in flight", async () => {
    withConditionalMediation(true);
    const button = authenticate(service.signIn.options);
    await tick();
    startAutofill({
      fetchOptions: async () => service.discoverable.options,
      onResult: () => assert.fail("no autofill result"),
      onError: (error) => assert.fail(`no error shown: ${error}`),
    });
    await tick();
    assert.deepEqual(
      calls.map((c) => [c.request.mediation ?? "modal", c.aborted]),
      [["modal", false]],
    );
    calls[0].resolve(credential(service.signIn.response));
    assert.deepEqual(await button, service.signIn.response);
  });

  test("a second startAutofill replaces the first", async () => {
    withConditionalMediation(true);
    const start = () =>
      startAutofill({
        fetchOptions: async () => service.discoverable.options,
        onResult: () => {},
        onError: (error) => assert.fail(`no error shown: ${error}`),
      });
    start();
    await tick();
    start();
    await tick();
    assert.deepEqual(
      calls.map((c) => c.aborted),
      [true, false],
    );
  });

  test("a failure after the person picked a passkey goes to onError", async () => {
    withConditionalMediation(true);
    const errors = [];
    const failure = new Error("the service refused");
    startAutofill({
      fetchOptions: async () => service.discoverable.options,
      onResult: async () => {
        throw failure;
      },
      onError: (error) => errors.push(error),
    });
    await tick();
    calls[0].resolve(credential(service.discoverable.response));
    await tick();
    assert.deepEqual(errors, [failure]);
  });

  test("without conditional mediation nothing is fetched or requested", async () => {
    for (const available of [false, undefined]) {
      if (available === undefined) setGlobal("PublicKeyCredential", undefined);
      else withConditionalMediation(available);
      startAutofill({
        fetchOptions: async () => assert.fail("options fetched"),
        onResult: () => assert.fail("no result"),
        onError: (error) => assert.fail(`no error: ${error}`),
      });
      await tick();
      assert.equal(calls.length, 0);
    }
  });
});

describe("capabilities", () => {
  test("without WebAuthn everything is false", async () => {
    setGlobal("navigator", {});
    assert.deepEqual(await capabilities(), {
      webauthn: false,
      platformAuthenticator: false,
      conditionalMediation: false,
      clientCapabilities: {},
    });
  });

  test("detection methods that throw or reject count as absent", async () => {
    setGlobal("PublicKeyCredential", {
      isUserVerifyingPlatformAuthenticatorAvailable: () => {
        throw new DOMException("blocked", "SecurityError");
      },
      isConditionalMediationAvailable: () => Promise.reject(new Error("no")),
      getClientCapabilities: () => Promise.reject(new Error("no")),
    });
    assert.deepEqual(await capabilities(), {
      webauthn: true,
      platformAuthenticator: false,
      conditionalMediation: false,
      clientCapabilities: {},
    });
  });

  test("the three detections are asked and reported", async () => {
    const reported = { conditionalGet: true, userVerifyingPlatformAuthenticator: true };
    setGlobal("PublicKeyCredential", {
      isUserVerifyingPlatformAuthenticatorAvailable: async () => true,
      isConditionalMediationAvailable: async () => false,
      getClientCapabilities: async () => reported,
    });
    const found = await capabilities();
    assert.equal(found.platformAuthenticator, true);
    assert.equal(found.conditionalMediation, true); // getClientCapabilities says conditionalGet
    assert.equal(found.clientCapabilities, reported);
    setGlobal("PublicKeyCredential", {
      isUserVerifyingPlatformAuthenticatorAvailable: async () => false,
      isConditionalMediationAvailable: async () => true,
    });
    assert.deepEqual(await capabilities(), {
      webauthn: true,
      platformAuthenticator: false,
      conditionalMediation: true,
      clientCapabilities: {},
    });
  });
});
