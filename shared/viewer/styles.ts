/**
 * The viewer's CSS, inlined in every page (one file to open, no requests). Speaker colours are classes
 * (`s0`..`s9`, repeating past 10 voices) that set `--c`, so the client never writes a style attribute
 * except positions on the timeline.
 */
const PALETTE = ["#0b6fb8", "#d1550f", "#0e8a62", "#b8438f", "#b88a00", "#4a90c9", "#7a5c2e", "#6a5acd", "#5c8a1f", "#777777"];

const BASE_CSS = `
:root { --fg: #1c2230; --muted: #5d6677; --line: #dde1e8; --bg: #f5f6f8; --card: #fff; --accent: #1f5fd6;
  --hit: #ffe27a; --hit-cur: #ff9a3d; --cur: #1f5fd6; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: var(--bg); }
a { color: var(--accent); }
button, input { font: inherit; }
button { cursor: pointer; }
h1 { font-size: 1.15rem; margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .45em; border-radius: 999px; font-size: .8rem; font-weight: 600; background: #e6e9ef; }
.badge.COMPLETED { background: #d9f2e4; color: #0c6b3d; }
.badge.FAILED { background: #fbe0dd; color: #a52016; }
.badge.RUNNING, .badge.CHUNKING, .badge.QUEUED { background: #e2ecfc; color: #1c4fa8; }
${PALETTE.map((colour, i) => `.s${i} { --c: ${colour}; }`).join("\n")}
.snone { --c: #8a93a3; }
`;

/** The job list and status pages: plain documents. */
export const LIST_CSS = `${BASE_CSS}
body { padding: 1.5rem clamp(1rem, 4vw, 3rem); }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; margin-bottom: 1rem; }
nav.filters a { margin-right: .75rem; }
nav.filters a[aria-current] { font-weight: 700; color: var(--fg); text-decoration: none; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.when { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.reason { color: #a52016; max-width: 32rem; overflow-wrap: anywhere; }
.names { color: var(--muted); font-size: .85rem; }
.empty, .note { color: var(--muted); }
main.status { background: var(--card); border: 1px solid var(--line); padding: 1rem 1.25rem; max-width: 48rem; }
`;

/** The transcript page: a fixed panel (player, timeline, search, speakers) over the scrolling transcript. */
export const TRANSCRIPT_CSS = `${BASE_CSS}
body { display: flex; flex-direction: column; }
.panel { flex: none; background: var(--card); border-bottom: 1px solid var(--line); padding: .6rem 1rem .5rem; display: grid; gap: .45rem; }
.titlebar { display: flex; gap: .9rem; align-items: baseline; flex-wrap: wrap; }
.titlebar .meta { color: var(--muted); font-size: .9rem; }
.downloads { margin-left: auto; display: flex; gap: .35rem; flex-wrap: wrap; align-items: baseline; font-size: .85rem; }
.downloads a { padding: .05rem .5rem; border: 1px solid var(--line); border-radius: 6px; text-decoration: none; }
.downloads a:hover { background: #eef3fd; }
.player { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
.player audio { width: min(100%, 34rem); height: 36px; }
.player .local, .player .follow { font-size: .85rem; color: var(--muted); }
.timeline { display: grid; grid-template-columns: minmax(6rem, 11rem) 1fr; column-gap: .5rem; user-select: none; }
.tl-labels { display: grid; grid-auto-rows: 16px; row-gap: 3px; font-size: .75rem; line-height: 16px; }
.tl-labels span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; border-left: 4px solid var(--c); padding-left: .35rem; }
.tl-tracks { position: relative; display: grid; grid-auto-rows: 16px; row-gap: 3px; cursor: pointer; padding-bottom: 14px; }
.tl-lane { position: relative; background: #eef0f4; border-radius: 3px; }
.tl-lane .seg { position: absolute; top: 2px; bottom: 2px; min-width: 1px; background: var(--c); border-radius: 2px; }
.tl-axis { position: absolute; left: 0; right: 0; bottom: 0; height: 13px; font-size: .68rem; color: var(--muted); }
.tl-axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.tl-axis span:first-child { transform: none; }
.tl-hits { position: absolute; inset: 0 0 14px 0; pointer-events: none; }
.tl-hits .tick { position: absolute; top: -2px; bottom: -2px; width: 2px; margin-left: -1px; background: #e0a800; pointer-events: auto; }
.tl-hits .tick.cur { background: #e0620b; width: 3px; z-index: 1; }
.tl-view { position: absolute; top: -3px; bottom: 11px; border: 1px solid #1f5fd688; background: #1f5fd614; border-radius: 3px; pointer-events: none; min-width: 3px; }
.tl-head { position: absolute; top: -4px; bottom: 10px; width: 2px; margin-left: -1px; background: #d01f1f; pointer-events: none; }
.tools { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
.search { display: flex; gap: .3rem; align-items: center; }
.search input { width: 16rem; padding: .2rem .5rem; border: 1px solid #b9c0cc; border-radius: 6px; }
.search button { border: 1px solid #b9c0cc; background: var(--card); border-radius: 6px; padding: .1rem .55rem; }
.search .count { font-size: .85rem; color: var(--muted); min-width: 5.5rem; }
.legend { display: flex; gap: .4rem .9rem; flex-wrap: wrap; list-style: none; margin: 0; padding: 0; font-size: .88rem; }
.legend li { display: flex; gap: .3rem; align-items: center; }
.legend .dot { width: .7rem; height: .7rem; border-radius: 50%; background: var(--c); flex: none; }
.legend .label { color: var(--muted); font-size: .75rem; }
.legend button.rename { border: none; background: none; padding: 0 .15rem; color: var(--fg); font-weight: 600; }
.legend button.rename:hover { text-decoration: underline; }
.legend input { width: 10rem; padding: 0 .3rem; }
.status { font-size: .85rem; color: var(--muted); min-height: 1.2em; }
.status.error { color: #a52016; }
#transcript { flex: 1; overflow-y: auto; overflow-anchor: auto; padding: .5rem 0 40vh; outline: none; }
.chunk { max-width: 50rem; margin: 0 auto; padding: 0 1rem; }
.turn { border-left: 4px solid var(--c); padding: .15rem 0 .15rem .8rem; margin: .55rem 0 .8rem; }
.who { font-size: .8rem; color: var(--muted); display: flex; gap: .6rem; align-items: baseline; }
.who .name { color: var(--c); font-weight: 700; font-size: .88rem; cursor: pointer; border: none; background: none; padding: 0; }
.who .at { cursor: pointer; font-variant-numeric: tabular-nums; }
.words { margin: .1rem 0 0; font-size: 1.02rem; line-height: 1.65; }
.w { cursor: pointer; border-radius: 3px; padding: 0 1px; }
.w:hover { background: #e4ebf9; }
.w.hit { background: var(--hit); }
.w.hit-cur { background: var(--hit-cur); }
.w.current { background: var(--cur); color: #fff; }
.empty { color: var(--muted); padding: 2rem; text-align: center; }
@media (max-width: 40rem) { .timeline { grid-template-columns: 5rem 1fr; } .search input { width: 10rem; } }
`;
