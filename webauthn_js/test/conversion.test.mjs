// JSON <-> WebAuthn conversion on real data: the service's recorded options and the shared
// vectors' responses (what real browsers and authenticators sent). Each case runs twice, on
// the browser's native helpers and on the module's own fallback (Android WebView has no
// native helpers). The "browser" here is a small fake of the platform interface, decoding
// with node's Buffer, an implementation independent of the module's own base64url.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { afterEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  creationOptionsFromJSON,
  credentialToJSON,
  requestOptionsFromJSON,
} from "../webauthn.js";

const here = dirname(fileURLToPath(import.meta.url));
const service = JSON.parse(readFileSync(join(here, "fixtures/service.json"), "utf8"));
// like tests/shared.py: ../shared beside the repository, or SHARED_DIR
const shared = process.env.SHARED_DIR ?? resolve(here, "../../../shared");
const vectorDir = join(shared, "vectors");
const vectors = readdirSync(vectorDir)
  .filter((name) => name.endsWith(".json"))
  .map((name) => ({ name, ...JSON.parse(readFileSync(join(vectorDir, name), "utf8")) }));

const bytes = (text) => {
  const buf = Buffer.from(text, "base64url");
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
};
const text = (buffer) => Buffer.from(buffer).toString("base64url");

function setGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}
afterEach(() => setGlobal("PublicKeyCredential", undefined));

/** A browser whose PublicKeyCredential has the Level 3 JSON parsers (they record their input). */
function nativeParsers() {
  const seen = [];
  const descriptors = (list) => list.map((d) => ({ ...d, id: bytes(d.id) }));
  setGlobal("PublicKeyCredential", {
    parseCreationOptionsFromJSON(json) {
      seen.push(json);
      return {
        ...json,
        challenge: bytes(json.challenge),
        user: { ...json.user, id: bytes(json.user.id) },
        excludeCredentials: descriptors(json.excludeCredentials ?? []),
      };
    },
    parseRequestOptionsFromJSON(json) {
      seen.push(json);
      return {
        ...json,
        challenge: bytes(json.challenge),
        allowCredentials: descriptors(json.allowCredentials ?? []),
      };
    },
  });
  return seen;
}

/** What the fallback must produce from the service's JSON, byte for byte. */
function checkCreation(parsed, json) {
  assert.equal(text(parsed.challenge), json.challenge);
  assert.equal(text(parsed.user.id), json.user.id);
  assert.deepEqual(
    parsed.excludeCredentials.map((d) => ({ ...d, id: text(d.id) })),
    json.excludeCredentials,
  );
  for (const member of ["rp", "pubKeyCredParams", "timeout", "authenticatorSelection"]) {
    assert.deepEqual(parsed[member], json[member]);
  }
  assert.deepEqual(parsed.extensions, json.extensions);
  assert.equal(parsed.attestation, json.attestation);
  assert.ok(!("status" in parsed) && !("errorMessage" in parsed));
}

function checkRequest(parsed, json) {
  assert.equal(text(parsed.challenge), json.challenge);
  assert.deepEqual(
    parsed.allowCredentials.map((d) => ({ ...d, id: text(d.id) })),
    json.allowCredentials,
  );
  for (const member of ["timeout", "rpId", "userVerification", "extensions"]) {
    assert.deepEqual(parsed[member], json[member]);
  }
  assert.ok(!("status" in parsed) && !("errorMessage" in parsed));
}

describe("options from the service", () => {
  const creations = [service.signUp.options, service.addPasskey.options];
  const requests = [service.signIn.options, service.discoverable.options];

  test("the recorded options carry the conformance members and real descriptors", () => {
    for (const options of [...creations, ...requests]) assert.equal(options.status, "ok");
    assert.equal(service.addPasskey.options.excludeCredentials.length, 1);
    assert.equal(service.signIn.options.allowCredentials.length, 2); // both passkeys
  });

  test("fallback: creation options decode byte for byte, without status/errorMessage", () => {
    for (const json of creations) checkCreation(creationOptionsFromJSON(json), json);
  });

  test("fallback: request options decode byte for byte, without status/errorMessage", () => {
    for (const json of requests) checkRequest(requestOptionsFromJSON(json), json);
  });

  test("native: the browser's parsers get the options without the service's members", () => {
    const seen = nativeParsers();
    for (const json of creations) checkCreation(creationOptionsFromJSON(json), json);
    for (const json of requests) checkRequest(requestOptionsFromJSON(json), json);
    assert.equal(seen.length, 4);
    for (const given of seen) assert.ok(!("status" in given) && !("errorMessage" in given));
    const { status, errorMessage, ...expected } = service.signIn.options;
    assert.deepEqual(seen[2], expected);
  });

  test("fallback: bad base64url is an EncodingError, as the native parsers throw", () => {
    for (const challenge of ["a+b", "ab==", "abcde", 42]) {
      const json = { ...service.discoverable.options, challenge };
      assert.throws(() => requestOptionsFromJSON(json), { name: "EncodingError" });
    }
  });
});

/**
 * A PublicKeyCredential as a browser without toJSON() hands it over, built from a response's
 * JSON. Getters exist only where the JSON shows the browser had them (older captures lack
 * getPublicKey & co., which the module must then leave out rather than invent).
 */
function browserCredential(json, { toJSON } = {}) {
  const r = json.response;
  const response = { clientDataJSON: bytes(r.clientDataJSON) };
  if ("attestationObject" in r) {
    response.attestationObject = bytes(r.attestationObject);
    const transports = r.transports ?? json.transports;
    if (transports) response.getTransports = () => transports;
    if (r.authenticatorData) response.getAuthenticatorData = () => bytes(r.authenticatorData);
    if (r.publicKey) response.getPublicKey = () => bytes(r.publicKey);
    if ("publicKeyAlgorithm" in r) response.getPublicKeyAlgorithm = () => r.publicKeyAlgorithm;
  } else {
    response.authenticatorData = bytes(r.authenticatorData);
    response.signature = bytes(r.signature);
    response.userHandle = r.userHandle ? bytes(r.userHandle) : null;
  }
  return {
    id: json.id,
    rawId: bytes(json.rawId),
    type: json.type,
    authenticatorAttachment: json.authenticatorAttachment ?? null,
    response,
    getClientExtensionResults: () => json.clientExtensionResults ?? {},
    ...(toJSON ? { toJSON } : {}),
  };
}

/** The JSON a correct conversion gives: every binary member in canonical base64url. */
function expectedJSON(json) {
  const canonical = (value) => Buffer.from(value, "base64url").toString("base64url");
  const r = json.response;
  const response = {};
  for (const [member, value] of Object.entries(r)) {
    if (member === "transports" || member === "publicKeyAlgorithm") response[member] = value;
    else if (value) response[member] = canonical(value); // a null userHandle is left out
  }
  if ("attestationObject" in r) response.transports = r.transports ?? json.transports ?? [];
  const out = {
    id: json.id,
    rawId: canonical(json.rawId),
    type: json.type,
    response,
    clientExtensionResults: json.clientExtensionResults ?? {},
  };
  if (json.authenticatorAttachment) out.authenticatorAttachment = json.authenticatorAttachment;
  return out;
}

describe("responses to JSON", () => {
  const recorded = ["signUp", "addPasskey", "signIn", "discoverable", "unknownCredential"];
  const cases = [
    ...vectors.map((v) => ({ name: v.name, json: v.response })),
    ...recorded.map((name) => ({ name: `service ${name}`, json: service[name].response })),
  ];

  test("the cases are the real vectors and recordings, both ceremonies", () => {
    assert.ok(vectors.length >= 80, `only ${vectors.length} vectors in ${vectorDir}`);
    const kinds = cases.map((c) => ("attestationObject" in c.json.response ? "reg" : "auth"));
    assert.ok(kinds.filter((k) => k === "reg").length >= 40);
    assert.ok(kinds.filter((k) => k === "auth").length >= 30);
  });

  test("fallback: every response round-trips byte for byte", () => {
    for (const { name, json } of cases) {
      assert.deepEqual(credentialToJSON(browserCredential(json)), expectedJSON(json), name);
    }
  });

  test("fallback: the service's own recordings come back exactly as they were sent", () => {
    for (const name of recorded) {
      const json = service[name].response;
      assert.deepEqual(credentialToJSON(browserCredential(json)), json, name);
    }
  });

  test("native: toJSON() is used as it is where the browser has it", () => {
    const made = { from: "the browser" };
    const credential = browserCredential(service.signIn.response, { toJSON: () => made });
    assert.equal(credentialToJSON(credential), made);
  });

  test("fallback: byte-valued extension outputs become base64url, others stay", () => {
    const json = service.signIn.response;
    const first = new Uint8Array([0xfb, 0xff, 0x00, 0x3e]);
    const credential = browserCredential({
      ...json,
      clientExtensionResults: { credProps: { rk: true }, prf: { results: { first } } },
    });
    assert.deepEqual(credentialToJSON(credential).clientExtensionResults, {
      credProps: { rk: true },
      prf: { results: { first: "-_8APg" } },
    });
  });

  test("fallback: a key the browser cannot parse (getPublicKey null) is left out", () => {
    const json = vectors.find((v) => v.name === "none-1password-synced-registration.json");
    const credential = browserCredential(json.response);
    credential.response.getPublicKey = () => null;
    const out = credentialToJSON(credential);
    assert.ok(!("publicKey" in out.response));
    assert.equal(out.response.publicKeyAlgorithm, -7);
  });
});
