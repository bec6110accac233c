// Users: role, group and status, passkey count; end a user's sessions, disable or enable
// them, change their role or group. Every change is the admin API's (step-up when it asks).
import { act, button, cell, change, el, read, say, sayError, select } from "./admin_common.js";

const PAGE = 50;
const ROLES = ["admin", "user"];
let groups = [];
let lastId = 0;

function userRow(user) {
  const who = user.username;
  const role = select(`Role of ${who}`, ROLES, user.role);
  const group = select(`Group of ${who}`, groups, user.group);
  const saveRole = button("Set role", `Set role of ${who}`);
  const saveGroup = button("Set group", `Set group of ${who}`);
  const disabled = user.status === "disabled";
  const toggle = button(disabled ? "Enable" : "Disable", `${disabled ? "Enable" : "Disable"} ${who}`, disabled ? "" : "danger");
  const end = button("End sessions", `End sessions of ${who}`);
  saveRole.addEventListener("click", () =>
    act(saveRole, () => change("PUT", `/users/${user.id}/role`, { role: role.value }), `${who} is now ${role.value === "admin" ? "an admin" : "a user"}.`));
  saveGroup.addEventListener("click", () =>
    act(saveGroup, () => change("PUT", `/users/${user.id}/group`, { group: group.value }), `${who} is now in ${group.value}.`));
  toggle.addEventListener("click", async () => {
    const status = disabled ? "active" : "disabled";
    const ok = await act(toggle, () => change("PUT", `/users/${user.id}/status`, { status }));
    if (ok) await reload(`${who} is ${status === "active" ? "enabled" : "disabled"}.`, `${status === "active" ? "Disable" : "Enable"} ${who}`);
  });
  end.addEventListener("click", () => act(end, async () => {
    const { sessionsEnded } = await change("DELETE", `/users/${user.id}/sessions`);
    say(`Ended ${sessionsEnded} session${sessionsEnded === 1 ? "" : "s"} of ${who}.`, "ok");
  }));
  const passkeys = el("a", { href: `/admin/credentials?user=${user.id}`, textContent: String(user.credentials) });
  passkeys.setAttribute("aria-label", `${user.credentials} passkeys of ${who}`);
  return el("tr", {},
    cell("User", el("strong", { textContent: who }), el("br"), el("span", { className: "muted", textContent: `${user.displayName || ""} · id ${user.id}` })),
    cell("Role", el("div", { className: "inline" }, role, saveRole)),
    cell("Group", el("div", { className: "inline" }, group, saveGroup)),
    cell("Status", el("span", { className: `tag ${user.status}`, textContent: user.status })),
    cell("Passkeys", passkeys),
    cell("Actions", el("div", { className: "inline" }, toggle, end)),
  );
}

async function more() {
  const { users } = await read(`/users?after=${lastId}&limit=${PAGE}`);
  document.getElementById("users").append(...users.map(userRow));
  if (users.length) lastId = users[users.length - 1].id;
  document.getElementById("more").hidden = users.length < PAGE;
}

/** Draw the table again from the first page; put focus back on the control named `focus`. */
async function reload(message, focus) {
  try {
    groups = (await read("/groups")).groups.map((g) => g.name);
    lastId = 0;
    document.getElementById("users").replaceChildren();
    await more();
    if (message) say(message, "ok");
    if (focus) document.querySelector(`[aria-label="${CSS.escape(focus)}"]`)?.focus();
  } catch (error) {
    sayError(error);
  }
}

const moreButton = document.getElementById("more");
moreButton.addEventListener("click", () => act(moreButton, more));
reload();
