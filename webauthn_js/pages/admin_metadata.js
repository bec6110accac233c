// Metadata status: which FIDO metadata BLOB the service trusts models by, how fresh it is,
// and the last BLOB it refused (with why), so an admin sees a stale or failed refresh.
import { el, read, sayError } from "./admin_common.js";

function facts(status) {
  const rows = [
    ["Source", status.source],
    ["BLOB number", String(status.no)],
    ["Next update", status.nextUpdate],
    ["Entries", String(status.entries)],
    ["Load time", `${Number(status.loadSeconds).toFixed(2)} s`],
    ["Fresh", status.stale ? "No: past its next update, refresh it" : "Yes"],
    ["Last refusal", status.lastRefusal || "none"],
  ];
  return rows.flatMap(([term, value]) => [el("dt", { textContent: term }), el("dd", { textContent: value })]);
}

read("/metadata")
  .then((status) => document.getElementById("metadata").replaceChildren(...facts(status)))
  .catch(sayError);
