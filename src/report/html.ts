// The report page: one self-contained HTML file. Figures are embedded as data-URI images (an SVG
// image keeps its own ids: Vega reuses clip-path and gradient ids from one SVG to the next, which
// would clash if the SVGs were inlined side by side), the slider is a few lines of inline JS.
import { type Figure, SECTIONS, type Section } from "./figures.js";
import { dataUri } from "./image.js";
import type { Cell } from "../store/tables.js";
import type { StudyFile } from "../store/study-folder.js";
import type { QuantitySummary, TableData } from "./tables.js";

/** The documentation shipped with advdyn (docs/ of the package), linked from the report. */
const doc = (name: string) => new URL(`../../../docs/${name}`, import.meta.url).href;

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (x: number) => (Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

const show = (c: Cell | null) => (c === null ? "—" : c.n === 1 ? fmt(c.mean) : `${fmt(c.mean)} ± ${fmt(c.std)}`);
const showPaper = (p: number | readonly [number, number] | undefined) => (p === undefined ? "—" : typeof p === "number" ? fmt(p) : `${fmt(p[0])} ± ${fmt(p[1])}`);
const cell = (c: Cell | null) => `<td title="n = ${c?.n ?? 0}">${esc(show(c))}</td>`;

/** Ours beside the reference's numbers (the paper's, or those the table names) when it has any; ours alone otherwise. */
function table({ table: t, labels, ours }: TableData): string {
  const reference = t.reference ?? "paper";
  const paired = t.rows.some((r) => r.paper && Object.keys(r.paper).length > 0);
  const head = paired
    ? `<tr><th rowspan="2">model</th>${t.columns.map((c) => `<th colspan="2">${esc(c.label)}</th>`).join("")}</tr>
<tr>${t.columns.map(() => `<th>ours</th><th>${esc(reference)}</th>`).join("")}</tr>`
    : `<tr><th>model</th>${t.columns.map((c) => `<th>${esc(c.label)}</th>`).join("")}</tr>`;
  const body = t.rows.map((r, i) => `<tr><th>${esc(labels[i])}</th>${t.columns.map((c, j) =>
    cell(ours[i]![j]!) + (paired ? `<td class="paper">${esc(showPaper(r.paper?.[c.label]))}</td>` : "")).join("")}</tr>`).join("\n");
  return `<section id="table-${esc(t.id)}"><h3>${esc(t.title)}</h3>
<p>Ours: mean ± std over the best checkpoints' rows${t.attack ? ` (attack ${esc(t.attack)})` : ""}, examples of all seeds pooled${paired ? `; ${esc(reference)}: as reported` : ""}. Hover a cell for n.</p>
${t.note ? `<p>${esc(t.note)}</p>\n` : ""}<table><thead>${head}</thead>
<tbody>${body}</tbody></table></section>`;
}

function summary(s: QuantitySummary, label: (key: string) => string): string {
  const unit = (u: string) => (u ? ` (${esc(u)})` : "");
  return `<h3>${esc(s.dataset)}</h3><table><thead><tr><th>quantity</th><th>attack</th>${s.models.map((m) => `<th>${esc(label(m))}</th>`).join("")}</tr></thead>
<tbody>${s.rows.map((r) => `<tr><th title="${esc(r.quantity.definition)}">${esc(r.quantity.symbol)}${unit(r.quantity.unit)}</th><td>${esc(r.attack || "—")}</td>${r.cells.map((c) =>
    `<td title="n = ${c?.n ?? 0}">${c === null ? "—" : esc(c.n === 1 ? fmt(c.mean) : `${fmt(c.mean)} ± ${fmt(c.std)}`)}</td>`).join("")}</tr>`).join("\n")}</tbody></table>`;
}

const img = (svg: string, alt: string, extra = "") => `<img src="${dataUri("image/svg+xml", svg)}" alt="${esc(alt)}"${extra}>`;

function figure(f: Figure): string {
  const body = f.frames
    ? `<div class="frames">${f.frames.map((fr, i) => img(fr.svg, `${f.title}, ${fr.label}`, ` data-label="${esc(fr.label)}"${i === f.frames!.length - 1 ? "" : " hidden"}`)).join("")}</div>
<label>checkpoint <input type="range" min="0" max="${f.frames.length - 1}" step="1" value="${f.frames.length - 1}"> <output>${esc(f.frames[f.frames.length - 1]!.label)}</output></label>`
    : img(f.svg, f.title);
  return `<figure id="${esc(f.id)}"${f.frames ? ' class="evolution"' : ""}><h3>${esc(f.title)}</h3>${body}<figcaption>${esc(f.caption)} <a href="figures/${esc(f.id)}.svg">${esc(f.id)}.svg</a></figcaption></figure>`;
}

const SCRIPT = `for (const fig of document.querySelectorAll("figure.evolution")) {
  const frames = fig.querySelectorAll(".frames img"), slider = fig.querySelector("input"), label = fig.querySelector("output");
  slider.addEventListener("input", () => {
    frames.forEach((im, i) => { im.hidden = i !== Number(slider.value); });
    label.textContent = frames[Number(slider.value)].dataset.label;
  });
}`;

const STYLE = `body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th{background:#f4f4f4}td.paper{color:#666}figure{margin:2em 0}figure img{max-width:100%}
figcaption{font-size:.9em;color:#444}pre{background:#f8f8f8;padding:.5em;overflow:auto;max-height:30em}
nav ol ol{font-size:.9em}input[type=range]{width:20em;vertical-align:middle}`;

export function renderHtml(info: StudyFile, tables: TableData[], summaries: QuantitySummary[], figures: Figure[]): string {
  const label = (key: string) => info.spec.models.find((m) => m.key === key)?.label ?? key;
  const sections = (Object.keys(SECTIONS) as Section[]).map((s) => ({ s, figs: figures.filter((f) => f.section === s) })).filter((x) => x.figs.length);
  const toc = `<nav><h2>Contents</h2><ol><li><a href="#study">Study</a></li>
${tables.length ? `<li><a href="#tables">Tables</a><ol>${tables.map(({ table: t }) => `<li><a href="#table-${esc(t.id)}">${esc(t.title)}</a></li>`).join("")}</ol></li>` : ""}
${summaries.length ? `<li><a href="#quantities">Every measured quantity</a></li>` : ""}
${sections.map(({ s, figs }) => `<li><a href="#${s}">${esc(SECTIONS[s])}</a><ol>${figs.map((f) => `<li><a href="#${esc(f.id)}">${esc(f.title)}</a></li>`).join("")}</ol></li>`).join("\n")}</ol></nav>`;
  const models = `<table><thead><tr><th>key</th><th>label</th><th>model</th><th>options</th><th>linear</th><th>group</th></tr></thead><tbody>
${info.spec.models.map((m) => `<tr><td>${esc(m.key)}</td><td>${esc(m.label)}</td><td>${esc(m.name)}</td><td>${esc(JSON.stringify(m.options))}</td><td>${m.linear ? "yes" : "no"}</td><td>${esc(m.group ?? "")}</td></tr>`).join("\n")}</tbody></table>`;
  const study = `<section id="study"><h2>Study</h2>
<p>${esc(info.description)}</p>
<p>What each quantity is and how it is computed: <a href="${doc("methods.md")}">methods</a>; what each study runs at each scale and what the papers found: <a href="${doc("studies.md")}">studies</a> (advdyn's docs/ folder).</p>
<table><tbody><tr><th>study</th><td>${esc(info.study)}</td></tr><tr><th>scale</th><td>${esc(info.scale)}</td></tr>
<tr><th>datasets</th><td>${esc([...new Set(info.spec.jobs.map((j) => j.tags.dataset))].join(", "))}</td></tr><tr><th>seeds</th><td>${esc([...new Set(info.spec.jobs.map((j) => j.tags.seed))].join(", "))}</td></tr>
<tr><th>jobs</th><td>${esc([...new Set(info.spec.jobs.map((j) => j.kind))].map((k) => `${info.spec.jobs.filter((j) => j.kind === k).length} ${k}`).join(", "))} (a measure job of a run's checkpoints becomes one job per checkpoint)</td></tr>
<tr><th>created</th><td>${esc(info.created)}</td></tr>
${Object.entries(info.versions ?? {}).map(([k, v]) => `<tr><th>${esc(k)} version</th><td>${esc(v)}</td></tr>`).join("")}</tbody></table>
<h3>Models</h3>${models}
<details><summary>Full study specification (study.json <code>spec</code>)</summary><pre>${esc(JSON.stringify(info.spec, null, 2))}</pre></details></section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>advdyn report: ${esc(info.study)}</title><style>${STYLE}</style></head>
<body><h1>advdyn report: ${esc(info.study)} (${esc(info.scale)})</h1>
${toc}
${study}
${tables.length ? `<section id="tables"><h2>Tables</h2>${tables.map(table).join("\n")}</section>` : ""}
${summaries.length ? `<section id="quantities"><h2>Every measured quantity</h2><p>Mean ± std at the best checkpoint of each run (per-example values of all seeds pooled; hover a quantity for its definition, a cell for n).</p>${summaries.map((x) => summary(x, label)).join("\n")}</section>` : ""}
${sections.map(({ s, figs }) => `<section id="${s}"><h2>${esc(SECTIONS[s])}</h2>\n${figs.map(figure).join("\n")}</section>`).join("\n")}
<script>${SCRIPT}</script>
</body></html>
`;
}
