/**
 * Passkeys in the browser for authsvc: one ES module, no dependencies, no build step.
 *
 * The service speaks the WebAuthn Level 3 JSON forms, so most of this module is the small
 * amount of glue a page would otherwise rewrite: JSON <-> what `navigator.credentials`
 * takes (the browser's own helpers where it has them, our base64url where it has not, as in
 * Android WebView), one request in flight at a time (so a button can take over from passkey
 * autofill), feature detection that never throws, the Signal API where it exists, and a
 * plain-language sentence for every failure a person can meet. Every browser global is read
 * when a function runs, not when the module loads, so the module also loads where WebAuthn
 * is missing and tells the page so through `capabilities()`.
 *
 * @module webauthn
 */

/** @typedef {Record<string, any>} JSONObject */
/**
 * @typedef {object} Problem  RFC 9457 problem details as the service sends them.
 * @property {string} [code]  the stable code of the service's contract (README "Error codes")
 * @property {string} [detail]
 * @property {string} [title]
 * @property {number} status  the HTTP status (the conformance endpoints' body says "failed")
 * @property {{code: string, message: string}[]} [reasons]  why a policy refused
 * @property {number} [retryAfter]  seconds, from the Retry-After header
 */

/** Members the conformance endpoints add around the options; no WebAuthn dictionary has them. */
const SERVICE_MEMBERS = ["status", "errorMessage"];

function toBase64url(/** @type {ArrayBuffer | ArrayBufferView} */ data) {
  const bytes =
    data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decode as the native parsers do: anything but unpadded base64url is an EncodingError. */
function fromBase64url(/** @type {string} */ text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new DOMException("A binary member is not base64url.", "EncodingError");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0)).buffer;
}

function withoutServiceMembers(/** @type {JSONObject} */ json) {
  const options = { ...json };
  for (const member of SERVICE_MEMBERS) delete options[member];
  return options;
}

const descriptorsFromJSON = (/** @type {JSONObject[] | undefined} */ list) =>
  (list ?? []).map((descriptor) => ({ ...descriptor, id: fromBase64url(descriptor.id) }));

/**
 * PublicKeyCredentialCreationOptionsJSON (as /attestation/options answers it) to the options
 * `navigator.credentials.create({publicKey})` takes. Extensions pass through unchanged in
 * the fallback (the service sends none with binary members).
 * @param {JSONObject} json
 * @returns {PublicKeyCredentialCreationOptions}
 */
export function creationOptionsFromJSON(json) {
  const options = withoutServiceMembers(json);
  const PKC = globalThis.PublicKeyCredential;
  if (typeof PKC?.parseCreationOptionsFromJSON === "function") {
    return PKC.parseCreationOptionsFromJSON(options);
  }
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user?.id) },
    excludeCredentials: descriptorsFromJSON(options.excludeCredentials),
  };
}

/**
 * PublicKeyCredentialRequestOptionsJSON (as /assertion/options answers it) to the options
 * `navigator.credentials.get({publicKey})` takes.
 * @param {JSONObject} json
 * @returns {PublicKeyCredentialRequestOptions}
 */
export function requestOptionsFromJSON(json) {
  const options = withoutServiceMembers(json);
  const PKC = globalThis.PublicKeyCredential;
  if (typeof PKC?.parseRequestOptionsFromJSON === "function") {
    return PKC.parseRequestOptionsFromJSON(options);
  }
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: descriptorsFromJSON(options.allowCredentials),
  };
}

/** Extension outputs may hold bytes (prf, largeBlob); JSON carries them as base64url. */
function buffersToBase64url(/** @type {unknown} */ value) {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return toBase64url(value);
  if (Array.isArray(value)) return value.map(buffersToBase64url);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, buffersToBase64url(v)]));
  }
  return value;
}

/** A getter that older browsers lack is left out of the JSON rather than guessed. */
const ask = (/** @type {any} */ target, /** @type {string} */ method) =>
  typeof target[method] === "function" ? target[method]() : undefined;

function registrationResponseJSON(/** @type {any} */ response) {
  const json = /** @type {JSONObject} */ ({
    clientDataJSON: toBase64url(response.clientDataJSON),
    attestationObject: toBase64url(response.attestationObject),
    transports: ask(response, "getTransports") ?? [],
  });
  const authenticatorData = ask(response, "getAuthenticatorData");
  if (authenticatorData) json.authenticatorData = toBase64url(authenticatorData);
  const publicKey = ask(response, "getPublicKey"); // null when the browser cannot parse the key
  if (publicKey) json.publicKey = toBase64url(publicKey);
  const algorithm = ask(response, "getPublicKeyAlgorithm");
  if (typeof algorithm === "number") json.publicKeyAlgorithm = algorithm;
  return json;
}

function authenticationResponseJSON(/** @type {any} */ response) {
  const json = /** @type {JSONObject} */ ({
    clientDataJSON: toBase64url(response.clientDataJSON),
    authenticatorData: toBase64url(response.authenticatorData),
    signature: toBase64url(response.signature),
  });
  if (response.userHandle) json.userHandle = toBase64url(response.userHandle);
  return json;
}

/**
 * A PublicKeyCredential to RegistrationResponseJSON / AuthenticationResponseJSON: its own
 * `toJSON()` where the browser has it, else the same shape built here.
 * @param {any} credential  what `navigator.credentials.create/get` resolved with
 * @returns {JSONObject}
 */
export function credentialToJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const { response } = credential;
  const json = /** @type {JSONObject} */ ({
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response:
      "attestationObject" in response
        ? registrationResponseJSON(response)
        : authenticationResponseJSON(response),
    clientExtensionResults: buffersToBase64url(ask(credential, "getClientExtensionResults") ?? {}),
  });
  if (credential.authenticatorAttachment) {
    json.authenticatorAttachment = credential.authenticatorAttachment;
  }
  return json;
}

/**
 * Browsers serve one WebAuthn request at a time, so a person's button must take over from
 * passkey autofill: from the moment autofill starts fetching its options, not only once its
 * request is pending (or late options would abort the button's request). Autofill, in turn,
 * never takes over from a button.
 * @type {{controller: AbortController, conditional: boolean} | null}
 */
let inFlight = null;
/** @type {AbortController | null} the running startAutofill, from its fetch to its result */
let autofill = null;

const replaced = () => new DOMException("A newer passkey request replaced this one.", "AbortError");

/** A button was pressed: end autofill and any request in flight. */
function takeOver() {
  autofill?.abort(replaced());
  inFlight?.controller.abort(replaced());
  autofill = inFlight = null;
}

function beginRequest(/** @type {AbortSignal | undefined} */ signal, conditional = false) {
  if (signal?.aborted) throw signal.reason ?? replaced();
  if (!conditional) takeOver();
  else if (inFlight && !inFlight.conditional) throw replaced();
  else inFlight?.controller.abort(replaced());
  const controller = new AbortController();
  inFlight = { controller, conditional };
  signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return controller;
}

async function withRequest(signal, /** @type {boolean} */ conditional, call) {
  const controller = beginRequest(signal, conditional);
  try {
    const credential = await call(controller.signal);
    // a credential manager may resolve with null instead of rejecting when dismissed
    if (!credential) throw new DOMException("No passkey was returned.", "NotAllowedError");
    return credentialToJSON(credential);
  } finally {
    if (inFlight?.controller === controller) inFlight = null;
  }
}

/**
 * Create a passkey from the service's creation options; aborts any pending request first.
 * @param {JSONObject} optionsJSON
 * @param {{signal?: AbortSignal}} [init]
 * @returns {Promise<JSONObject>} RegistrationResponseJSON
 */
export async function register(optionsJSON, { signal } = {}) {
  const publicKey = creationOptionsFromJSON(optionsJSON);
  return withRequest(signal, false, (s) => navigator.credentials.create({ publicKey, signal: s }));
}

/**
 * Sign in with a passkey from the service's request options; aborts any pending request
 * first. With `mediation: "conditional"` the browser offers passkeys in autofill instead of
 * a dialog, and `allowCredentials` is emptied, as conditional requests need.
 * @param {JSONObject} optionsJSON
 * @param {{signal?: AbortSignal, mediation?: CredentialMediationRequirement}} [init]
 * @returns {Promise<JSONObject>} AuthenticationResponseJSON
 */
export async function authenticate(optionsJSON, { signal, mediation } = {}) {
  const conditional = mediation === "conditional";
  const publicKey = requestOptionsFromJSON(
    conditional ? { ...optionsJSON, allowCredentials: [] } : optionsJSON,
  );
  return withRequest(signal, conditional, (s) =>
    navigator.credentials.get({ publicKey, signal: s, ...(mediation ? { mediation } : {}) }),
  );
}

async function probe(/** @type {any} */ PKC, /** @type {string} */ method) {
  try {
    return await ask(PKC ?? {}, method);
  } catch {
    return undefined; // a detection method that fails means "no", never a broken page
  }
}

/**
 * What this browser offers; never throws, and everything is false where WebAuthn is absent.
 * @returns {Promise<{webauthn: boolean, platformAuthenticator: boolean,
 *   conditionalMediation: boolean, clientCapabilities: Record<string, boolean>}>}
 */
export async function capabilities() {
  const PKC = globalThis.PublicKeyCredential;
  const reported = await probe(PKC, "getClientCapabilities");
  const clientCapabilities = reported !== null && typeof reported === "object" ? reported : {};
  return {
    webauthn: PKC !== undefined && typeof globalThis.navigator?.credentials?.get === "function",
    platformAuthenticator:
      (await probe(PKC, "isUserVerifyingPlatformAuthenticatorAvailable")) === true ||
      clientCapabilities.userVerifyingPlatformAuthenticator === true,
    conditionalMediation:
      (await probe(PKC, "isConditionalMediationAvailable")) === true ||
      clientCapabilities.conditionalGet === true,
    clientCapabilities,
  };
}

/**
 * Offer passkeys in the autofill of an `<input autocomplete="username webauthn">` (the field
 * must be on the page). Does nothing where the browser lacks conditional mediation. Any
 * button flow of this module aborts it, and that AbortError is swallowed; start it again,
 * with fresh options, when such a flow fails.
 * @param {{fetchOptions?: (init: {signal: AbortSignal}) => Promise<JSONObject>,
 *   onResult: (response: JSONObject, options: JSONObject) => unknown,
 *   onError?: (error: unknown) => unknown}} handlers  fetchOptions defaults to the
 *   service's discoverable /assertion/options; onResult gets the AuthenticationResponseJSON
 *   (hand it to `completeSignIn`)
 * @returns {{abort(): void}}
 */
export function startAutofill({ fetchOptions, onResult, onError = () => {} }) {
  autofill?.abort(replaced());
  const controller = new AbortController();
  autofill = controller;
  const fetchFresh = fetchOptions ?? ((init) => callService("POST", "/assertion/options", {}, init));
  const run = async () => {
    if (!(await capabilities()).conditionalMediation) return;
    const options = await fetchFresh({ signal: controller.signal });
    const response = await authenticate(options, {
      signal: controller.signal,
      mediation: "conditional",
    });
    await onResult(response, options);
  };
  run()
    .catch((error) => {
      if (error?.name !== "AbortError" && !controller.signal.aborted) onError(error);
    })
    .finally(() => {
      if (autofill === controller) autofill = null;
    });
  return {
    abort: () => controller.abort(new DOMException("Autofill was stopped.", "AbortError")),
  };
}

async function signal(/** @type {string} */ method, /** @type {JSONObject} */ details) {
  const PKC = globalThis.PublicKeyCredential;
  if (typeof PKC?.[method] !== "function") return false;
  try {
    await PKC[method](details);
    return true;
  } catch {
    return false; // a hint to the credential manager; its failure must not fail the page
  }
}

/**
 * Tell the credential manager the service does not know this credential, so it can hide it.
 * @param {{rpId: string, credentialId: string}} details  credentialId base64url
 * @returns {Promise<boolean>} whether the browser took the signal
 */
export function signalUnknownCredential({ rpId, credentialId }) {
  return signal("signalUnknownCredential", { rpId, credentialId });
}

/**
 * After a passkey is deleted: every credential id the account still accepts.
 * @param {{rpId: string, userId: string, allAcceptedCredentialIds: string[]}} details
 *   userId is the WebAuthn user handle, all ids base64url
 * @returns {Promise<boolean>} whether the browser took the signal
 */
export function signalAllAcceptedCredentials({ rpId, userId, allAcceptedCredentialIds }) {
  return signal("signalAllAcceptedCredentials", { rpId, userId, allAcceptedCredentialIds });
}

/**
 * After a rename: the names the credential manager should show for this account.
 * @param {{rpId: string, userId: string, name: string, displayName: string}} details
 * @returns {Promise<boolean>} whether the browser took the signal
 */
export function signalCurrentUserDetails({ rpId, userId, name, displayName }) {
  return signal("signalCurrentUserDetails", { rpId, userId, name, displayName });
}

/** An HTTP failure of the service, carrying its problem+json. */
export class ProblemError extends Error {
  /** @param {Problem} problem */
  constructor(problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.name = "ProblemError";
    this.problem = problem;
    this.code = problem.code;
    this.detail = problem.detail;
    this.status = problem.status;
    this.retryAfter = problem.retryAfter;
  }
}

function secondsUntil(/** @type {string | null} */ retryAfter) {
  if (retryAfter === null) return undefined;
  if (/^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim());
  const at = Date.parse(retryAfter);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * The problem of a failed `fetch` response (null when it succeeded), with `status` the HTTP
 * status and `retryAfter` in seconds. A body that is not JSON (a proxy's error page) still
 * gives a problem, without a `code`.
 * @param {Response} response
 * @returns {Promise<Problem | null>}
 */
export async function problemOf(response) {
  if (response.ok) return null;
  const body = await response.json().catch(() => ({}));
  const problem = body !== null && typeof body === "object" ? body : {};
  return {
    ...problem,
    status: response.status,
    retryAfter: secondsUntil(response.headers.get("Retry-After")),
  };
}

/**
 * One same-origin JSON call to the service; throws a ProblemError when it answers an error
 * and a DOMException "NetworkError" when it cannot be reached.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]  sent as JSON when given
 * @param {{signal?: AbortSignal}} [init]
 * @returns {Promise<any>} the JSON answer, or null for an empty one (204)
 */
export async function callService(method, path, body, { signal } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new DOMException("The service could not be reached.", "NetworkError");
  }
  const problem = await problemOf(response);
  if (problem) throw new ProblemError(problem);
  return response.status === 204 ? null : response.json();
}

/**
 * Create an account with a passkey (the new account is then signed in).
 * @param {{username: string, displayName?: string}} account  displayName defaults to username
 * @param {{signal?: AbortSignal}} [init]
 * @returns {Promise<JSONObject>} the RegistrationResponseJSON the service accepted
 */
export async function signUp({ username, displayName }, { signal } = {}) {
  takeOver();
  const body = { username, displayName: displayName || username };
  const options = await callService("POST", "/attestation/options", body, { signal });
  const credential = await register(options, { signal });
  await callService("POST", "/attestation/result", credential, { signal });
  return credential;
}

/**
 * Send an AuthenticationResponseJSON to /assertion/result. When the service does not know
 * the credential (deleted on the server, still on the device), the credential manager is
 * told so before the ProblemError is rethrown.
 * @param {JSONObject} credential  AuthenticationResponseJSON
 * @param {JSONObject} options  the request options it answered (for the RP ID)
 * @param {{signal?: AbortSignal}} [init]
 * @returns {Promise<void>}
 */
export async function completeSignIn(credential, options, { signal } = {}) {
  try {
    await callService("POST", "/assertion/result", credential, { signal });
  } catch (error) {
    if (error instanceof ProblemError && error.code === "credential_unknown") {
      const rpId = options.rpId ?? globalThis.location?.hostname;
      await signalUnknownCredential({ rpId, credentialId: credential.id });
    }
    throw error;
  }
}

async function assertWith(/** @type {JSONObject} */ body, /** @type {any} */ signal) {
  takeOver(); // before asking for options: they replace the ones autofill asked for
  const options = await callService("POST", "/assertion/options", body, { signal });
  const credential = await authenticate(options, { signal });
  await completeSignIn(credential, options, { signal });
  return credential;
}

/**
 * Sign in with a button: with a username its passkeys are offered, without one any passkey
 * for this site (discoverable). Aborts a pending autofill request first.
 * @param {{username?: string}} [account]
 * @param {{signal?: AbortSignal}} [init]
 * @returns {Promise<JSONObject>} the AuthenticationResponseJSON the service accepted
 */
export function signIn({ username } = {}, { signal } = {}) {
  return assertWith(username ? { username } : {}, signal);
}

/**
 * Confirm it is still the signed-in person (a fresh user-verified assertion), as the service
 * asks with `step_up_required` before adding or deleting a passkey.
 * @param {{signal?: AbortSignal}} [init]
 * @returns {Promise<JSONObject>} the AuthenticationResponseJSON the service accepted
 */
export async function stepUp({ signal } = {}) {
  const me = await callService("GET", "/api/v1/me", undefined, { signal });
  return assertWith({ username: me.username, userVerification: "required" }, signal);
}

/**
 * Add a passkey to the signed-in account, stepping up first when the service asks for it.
 * @param {{signal?: AbortSignal}} [init]
 * @returns {Promise<JSONObject>} the RegistrationResponseJSON the service accepted
 */
export async function addPasskey({ signal } = {}) {
  takeOver();
  const me = await callService("GET", "/api/v1/me", undefined, { signal });
  const body = { username: me.username, displayName: me.displayName || me.username };
  const creationOptions = () => callService("POST", "/attestation/options", body, { signal });
  const options = await creationOptions().catch(async (error) => {
    if (!(error instanceof ProblemError && error.code === "step_up_required")) throw error;
    await assertWith({ username: me.username, userVerification: "required" }, signal);
    return creationOptions();
  });
  const credential = await register(options, { signal });
  await callService("POST", "/attestation/result", credential, { signal });
  return credential;
}

export { messageFor } from "./messages.js";
