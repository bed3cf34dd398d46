// Today's call figures, the skills' service levels and the day in half hours, from /api/reports/live
// and its `reports.live` events. The chart is SVG built through the DOM: no library, nothing inline.

const SVG = "http://www.w3.org/2000/svg";
const $ = (selector) => document.querySelector(selector);

const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);
const seconds = (value) => (value === null || value === undefined ? "—" : `${Math.round(value)}秒`);

function tile(label, value, className = "") {
  const div = document.createElement("div");
  div.className = `tile ${className}`;
  const strong = document.createElement("strong");
  strong.textContent = value;
  const span = document.createElement("span");
  span.textContent = label;
  div.append(strong, span);
  return div;
}

// A caller still waiting is neither answered nor abandoned: shown apart, and in no rate until their call
// has an outcome.
function renderTiles(live) {
  const today = live.today, day = live.last_24h;
  const target = day.met === null ? "" : day.met ? "good" : "bad";
  $("#tiles").replaceChildren(
    tile("今日呼入", String(today.offered)),
    tile("今日接通", String(today.answered)),
    tile("今日放弃", String(today.abandoned)),
    tile("正在排队（不计入接通率）", String(today.waiting), today.waiting ? "waiting" : ""),
    tile("今日接通率", percent(today.answer_rate)),
    tile("15秒接通率", percent(today.answered_within_15s_rate)),
    tile(`24小时接通率（目标 ≥${percent(day.target)}）`, percent(day.answer_rate), target),
    tile("平均应答", seconds(today.asa_seconds)),
    tile("预约回拨 / 留言", `${today.callbacks} / ${today.voicemails}`),
  );
  const tiles = $("#tiles").dataset;
  tiles.offered = String(today.offered);
  tiles.answered = String(today.answered);
  tiles.abandoned = String(today.abandoned);
  tiles.waiting = String(today.waiting);
}

function renderSkills(live) {
  const tbody = $("#skills").tBodies[0];
  tbody.replaceChildren();
  for (const skill of live.skills) {
    const row = tbody.insertRow();
    for (const text of [skill.key, skill.requested, skill.answered, percent(skill.answered_within_15s_rate),
      percent(skill.answer_rate), seconds(skill.asa_seconds)]) row.insertCell().textContent = String(text);
  }
}

function node(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function renderChart(live) {
  const slots = live.half_hours;
  const width = 960, height = 200, left = 30, bottom = 20, slot = (width - left) / 48;
  const top = Math.max(4, ...slots.map((s) => Math.max(s.offered, s.agents_ready, s.waiting)));
  const y = (value) => height - bottom - (value / top) * (height - bottom - 10);
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "今日每半小时来电与空闲坐席" });
  svg.append(node("text", { x: 0, y: 12, class: "axis" }, String(top)), node("text", { x: 0, y: y(0), class: "axis" }, "0"));
  slots.forEach((s, i) => {
    const x = left + i * slot;
    const bar = node("rect", { x: x + 1, y: y(s.offered), width: slot - 2, height: y(0) - y(s.offered), class: "offered" });
    bar.append(node("title", {}, `${new Date(s.start).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" })} 来电 ${s.offered}，接通 ${s.answered}，空闲坐席 ${s.agents_ready}，平均排队 ${s.waiting}`));
    svg.append(bar);
    if (i % 4 === 0) svg.append(node("text", { x, y: height - 4, class: "axis" }, `${i / 2}时`));
  });
  for (const [key, className] of [["agents_ready", "ready"], ["waiting", "waiting"]]) {
    const points = slots.map((s, i) => `${left + i * slot + slot / 2},${y(s[key])}`).join(" ");
    if (points) svg.append(node("polyline", { points, class: className }));
  }
  $("#chart").replaceChildren(svg);
}

export function renderFigures(live) {
  renderTiles(live);
  renderSkills(live);
  renderChart(live);
}
