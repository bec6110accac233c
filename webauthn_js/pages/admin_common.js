// What the admin pages share: building rows, the admin API's own words for a refusal, and
// every change run through the step-up retry of common.js. The pages hold no data of their
// own: each draws what /api/v1/admin answers, so the API alone decides who sees what.
import { callService, messageFor } from "/static/webauthn.js";
import { busy, say, withStepUp } from "./common.js";

export { say };

/** A new element with properties and children (strings become text nodes). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

/** A table cell; `label` is its column's name, shown beside the value when rows reflow. */
export function cell(label, ...children) {
  const td = el("td", {}, ...children);
  td.dataset.label = label;
  return td;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");

/**
 * The plain-language message, followed by the API's own detail: an admin needs to know
 * which rule refused (not their own account, the last admin, which field is wrong).
 */
export function explain(error) {
  const detail = typeof error?.detail === "string" && error.detail ? ` (${error.detail})` : "";
  return `${messageFor(error)}${detail}`;
}

export function sayError(error) {
  say(explain(error), "error");
}

/** A read of the admin API. */
export function read(path) {
  return callService("GET", `/api/v1/admin${path}`);
}

/** A change through the admin API, stepping up once when the API asks for it. */
export function change(method, path, body) {
  return withStepUp(() => callService(method, `/api/v1/admin${path}`, body));
}

/**
 * Run `work` with `button` disabled; say `done` when it succeeds, the API's refusal when not.
 * Returns whether it succeeded.
 */
export async function act(button, work, done) {
  return busy(button, async () => {
    try {
      await work();
      if (done) say(done, "ok");
      return true;
    } catch (error) {
      sayError(error);
      return false;
    }
  });
}

/** A <select> with an accessible name, holding `options` with `selected` chosen. */
export function select(label, options, selected) {
  const box = el("select", {});
  box.setAttribute("aria-label", label);
  for (const value of options) box.append(el("option", { value, textContent: value, selected: value === selected }));
  return box;
}

/** A button whose accessible name says what it acts on (a row's "Disable" is not enough). */
export function button(text, label, className = "") {
  const node = el("button", { type: "button", textContent: text, className });
  if (label) node.setAttribute("aria-label", label);
  return node;
}
