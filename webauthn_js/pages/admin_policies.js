// Groups and policies: which policy version each group follows, assigning another, and
// editing a policy as JSON. A draft is checked by a dry run (which passkeys it would refuse,
// and why) before it can be saved: "Save" stays off until the text in the box has had one,
// so no version is saved that its author has not seen the effect of.
import { act, button, cell, change, el, read, say, sayError, select, when } from "./admin_common.js";

const editor = document.getElementById("editor");
const box = document.getElementById("document");
const errors = document.getElementById("document-errors");
const result = document.getElementById("dry-run-result");
const save = document.getElementById("save");
let policies = [];
let editing = null; // the policy being edited
let checkedText = null; // the text of the last successful dry run

function groupRow(group) {
  const choice = select(`Policy for ${group.name}`, policies.map((p) => p.name), group.policy);
  const assign = button("Assign", `Assign policy to ${group.name}`);
  assign.addEventListener("click", async () => {
    const ok = await act(assign, () => change("PUT", `/groups/${group.name}/policy`, { policy: choice.value }));
    if (ok) await load(`${group.name} now follows ${choice.value}.`);
  });
  return el("tr", {},
    cell("Group", el("strong", { textContent: group.name })),
    cell("Members", String(group.members)),
    cell("Follows", `${group.policy} v${group.policyVersion}`),
    cell("Assign a policy", el("div", { className: "inline" }, choice, assign)),
  );
}

function policyRow(policy) {
  const edit = button("Edit", `Edit policy ${policy.name}`);
  edit.addEventListener("click", () => open(policy));
  return el("tr", {},
    cell("Policy", el("strong", { textContent: policy.name })),
    cell("Version", String(policy.version)),
    cell("Saved", when(policy.createdAt)),
    cell("By user", policy.createdBy === null ? "—" : String(policy.createdBy)),
    cell("Edit", edit),
  );
}

function open(policy) {
  editing = policy;
  document.getElementById("editing").textContent = `${policy.name} (now version ${policy.version})`;
  box.value = JSON.stringify(policy.document, null, 2);
  showErrors([]);
  result.replaceChildren();
  checkedText = null;
  save.disabled = true;
  editor.hidden = false;
  box.focus();
}

/** The problems of the draft, next to the box; the box is marked invalid while there are any. */
function showErrors(problems) {
  errors.replaceChildren();
  box.setAttribute("aria-invalid", String(problems.length > 0));
  if (!problems.length) return;
  errors.append(el("p", { className: "error-title", textContent: "This document is not a valid policy:" }),
    el("ul", {}, ...problems.map((p) => el("li", { textContent: p }))));
}

/** The draft as an object, or null after showing why it is not JSON at all. */
function draft() {
  try {
    return JSON.parse(box.value);
  } catch (error) {
    showErrors([`It is not valid JSON: ${error.message}`]);
    return null;
  }
}

/** The API refuses a document with every problem in `detail`, joined by "; ". */
function refused(error) {
  if (error.code === "malformed" && error.detail) showErrors(error.detail.split("; "));
  else sayError(error);
}

function showDryRun(outcome) {
  const { checked, groups, refused: refusals } = outcome;
  const summary = refusals.length
    ? `${refusals.length} of ${checked} passkeys in ${groups} group${groups === 1 ? "" : "s"} would be refused:`
    : `No passkey would be refused (${checked} checked in ${groups} group${groups === 1 ? "" : "s"}).`;
  const items = refusals.map((r) => el("li", {},
    el("strong", { textContent: `${r.username}` }), ` (user ${r.user}), passkey ${r.credential}: `,
    r.reasons.map((reason) => reason.message).join("; ")));
  result.replaceChildren(el("h3", { textContent: "Dry run" }), el("p", { textContent: summary }));
  if (items.length) result.append(el("ul", { className: "refusals" }, ...items));
}

document.getElementById("policy-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const parsed = draft();
  if (parsed === null) return;
  const run = document.getElementById("dry-run");
  await act(run, async () => {
    try {
      const outcome = await change("POST", `/policies/${editing.name}/dry-run`, { document: parsed });
      showErrors([]);
      showDryRun(outcome);
      checkedText = box.value;
      save.disabled = false;
      say("Dry run done: read it, then save if it is what you meant.", "ok");
    } catch (error) {
      result.replaceChildren();
      refused(error);
    }
  });
});

box.addEventListener("input", () => {
  save.disabled = box.value !== checkedText;
});

save.addEventListener("click", async () => {
  const parsed = draft();
  if (parsed === null) return;
  save.disabled = true;
  try {
    const row = await change("POST", `/policies/${editing.name}/versions`, { document: parsed });
    editor.hidden = true;
    await load(`Saved ${row.name} version ${row.version}.`);
    document.querySelector(`[aria-label="${CSS.escape(`Edit policy ${row.name}`)}"]`)?.focus();
  } catch (error) {
    save.disabled = false;
    refused(error);
  }
});

document.getElementById("close-editor").addEventListener("click", () => {
  editor.hidden = true;
  document.querySelector(`[aria-label="${CSS.escape(`Edit policy ${editing.name}`)}"]`)?.focus();
});

async function load(message) {
  try {
    const [found, { groups }] = await Promise.all([read("/policies"), read("/groups")]);
    policies = found.policies;
    document.getElementById("policies").replaceChildren(...policies.map(policyRow));
    document.getElementById("groups").replaceChildren(...groups.map(groupRow));
    if (message) say(message, "ok");
  } catch (error) {
    sayError(error);
  }
}

load();
