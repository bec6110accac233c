// The audit log, newest first, filtered by user and event and paged by `seq`, under the
// hash chain's status (GET /audit/verify recomputes it, naming the first bad event).
// Filters live in the address (?user=&event=), so a filtered view can be linked and reloaded.
import { act, cell, el, read, sayError, when } from "./admin_common.js";

const PAGE = 50;
const query = new URLSearchParams(window.location.search);
let oldest = null; // the smallest seq shown: the next page is before it

async function chain() {
  const box = document.getElementById("chain");
  try {
    const report = await read("/audit/verify");
    box.classList.toggle("broken", !report.ok);
    box.replaceChildren(report.ok
      ? el("p", {}, el("strong", { textContent: "Hash chain intact" }), `: all ${report.events} events verify.`)
      : el("p", {}, el("strong", { textContent: "Hash chain broken" }),
        `: event #${report.firstBadSeq} (id ${report.firstBadId}) does not verify: ${report.reason}.`));
  } catch (error) {
    box.replaceChildren(el("p", { textContent: "The chain could not be checked." }));
    throw error;
  }
}

function eventRow(event) {
  const { detail } = event;
  const details = el("div", {});
  if (event.code) details.append(el("span", { className: "tag", textContent: event.code }));
  if (detail && Object.keys(detail).length) details.append(el("code", { className: "detail", textContent: JSON.stringify(detail) }));
  return el("tr", {},
    cell("#", String(event.seq)),
    cell("When", when(event.occurred_at)),
    cell("Event", el("strong", { textContent: event.event })),
    cell("Outcome", el("span", { className: `tag ${event.outcome}`, textContent: event.outcome })),
    cell("User", event.user_id === null ? "—" : String(event.user_id)),
    cell("Actor", event.actor_user_id === null ? "—" : String(event.actor_user_id)),
    cell("Details", details),
  );
}

async function older() {
  const params = new URLSearchParams({ limit: String(PAGE) });
  for (const name of ["user", "event"]) if (query.get(name)) params.set(name, query.get(name));
  if (oldest !== null) params.set("before", String(oldest));
  const { events } = await read(`/audit?${params}`);
  document.getElementById("events").append(...events.map(eventRow));
  if (events.length) oldest = events[events.length - 1].seq;
  document.getElementById("older").hidden = events.length < PAGE;
}

document.getElementById("filter-user").value = query.get("user") ?? "";
document.getElementById("filter-event").value = query.get("event") ?? "";
const olderButton = document.getElementById("older");
olderButton.addEventListener("click", () => act(olderButton, older));
// the events first: verify reads the whole chain and must not hold up the listing
older().then(chain).catch(sayError);
