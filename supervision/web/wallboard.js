// The supervisors' wallboard: the floor's state fetched once, then kept live from /api/events.
// Plain ES modules with no build step: the pages of agents and units grow the same way.
import { renderFigures } from "./figures.js";

const STATES = { logged_out: "签出", ready: "空闲", ringing: "振铃", talking: "通话中", wrap_up: "话后处理", break: "小休" };
const PRIORITIES = { normal: "普通", repeat_caller: "重复来电", elderly: "老年人", from_110: "110 转入" };
const MODES = { listen: "监听", whisper: "密语", barge: "强插" };
const QUEUE_EVENTS = new Set(["acd.queued", "acd.assigned", "acd.abandoned", "acd.callback_requested",
  "acd.not_answered", "call.hangup", "call.bridged"]);

const $ = (selector) => document.querySelector(selector);
const agents = new Map();
let waiting = [];
let callers = new Map();  // call id → the caller's number, from the call records
let token = sessionStorage.getItem("hotline-token") || "";

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function ticking(row, since) {
  const td = cell(row, duration(since), "since");
  td.dataset.since = String(since);
}

function duration(since) {
  const seconds = Math.max(0, Math.floor(Date.now() / 1000 - since));
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m >= 60 ? `${Math.floor(m / 60)}时${m % 60}分` : `${m}:${String(s).padStart(2, "0")}`;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok) throw Object.assign(new Error(data.message || response.statusText), { status: response.status });
  return data;
}

function alert(text, warn = true) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString("zh-CN")} ${text}`;
  if (warn) li.className = "warn";
  $("#alerts").prepend(li);
  while ($("#alerts").children.length > 30) $("#alerts").lastChild.remove();
}

function renderAgents() {
  const tbody = $("#agents").tBodies[0];
  tbody.replaceChildren();
  for (const agent of [...agents.values()].sort((a, b) => a.agent.localeCompare(b.agent))) {
    const row = tbody.insertRow();
    row.className = agent.state;
    row.dataset.agent = agent.agent;
    cell(row, agent.agent);
    cell(row, agent.name);
    cell(row, STATES[agent.state] || agent.state, "state");
    if (agent.state === "logged_out") cell(row, ""); else ticking(row, agent.since);
    cell(row, agent.state === "break" ? agent.break_reason : "");
    const phone = agent.phone || (agent.phone_free === false ? "in_use" : "free");
    cell(row, phone === "unregistered" ? "未注册" : phone === "in_use" ? "占用" : "正常",
      phone === "unregistered" ? "phone warn" : "phone").title = agent.phone_note || "";
    const actions = row.insertCell();
    if (agent.state === "talking" && agent.call_id) {
      for (const [mode, label] of Object.entries(MODES)) {
        const button = document.createElement("button");
        button.className = "spy";
        button.textContent = label;
        button.onclick = () => monitor(agent, mode);
        actions.append(button);
      }
    }
  }
  skillAlerts();
}

function renderQueue() {
  const now = Date.now() / 1000;
  const groups = new Map();
  const tbody = $("#queue").tBodies[0];
  tbody.replaceChildren();
  for (const call of waiting) {
    const row = tbody.insertRow();
    row.dataset.call = call.call_id;  // the internal id stays out of sight: a supervisor knows the number
    cell(row, call.callback_number ? `回拨 ${call.callback_number}` : callers.get(call.call_id) || "号码未知", "number");
    cell(row, call.line);
    cell(row, call.skill);
    cell(row, PRIORITIES[call.priority] || call.priority);
    ticking(row, call.arrived_at);
    const key = `${call.line}\u0000${call.skill}`;
    const group = groups.get(key) || { line: call.line, skill: call.skill, count: 0, longest: now };
    group.count += 1;
    group.longest = Math.min(group.longest, call.arrived_at);
    groups.set(key, group);
  }
  const lines = $("#lines").tBodies[0];
  lines.replaceChildren();
  for (const group of groups.values()) {
    const row = lines.insertRow();
    cell(row, group.line);
    cell(row, group.skill);
    cell(row, String(group.count));
    ticking(row, group.longest);
  }
  $("#waiting-count").textContent = String(waiting.length);
}

let warnedSkills = new Set();
function skillAlerts() {
  const skills = new Map();
  for (const agent of agents.values()) {
    for (const skill of Object.keys(agent.skills || {})) {
      skills.set(skill, (skills.get(skill) || false) || agent.state !== "logged_out");
    }
  }
  const empty = new Set([...skills].filter(([, staffed]) => !staffed).map(([skill]) => skill));
  for (const skill of empty) if (!warnedSkills.has(skill)) alert(`技能组 ${skill} 无人签入`);
  warnedSkills = empty;
}

async function monitor(agent, mode) {
  try {
    await api("POST", `/api/calls/${encodeURIComponent(agent.call_id)}/monitor`, { mode, phone: $("#phone").value });
    alert(`${MODES[mode]}坐席 ${agent.agent}：正在呼叫班长话机`, false);
  } catch (error) {
    alert(`${MODES[mode]}失败：${error.message}`);
  }
}

async function refreshQueue() {
  const [queue, records] = await Promise.all([api("GET", "/api/acd/queue"), api("GET", "/api/reports/waiting")]);
  waiting = queue;
  callers = new Map(records.map((record) => [record.call_id, record.caller_number]));
  renderQueue();
}

function hear(event) {
  if (event.type === "agent.state") {
    const before = agents.get(event.agent) || { agent: event.agent };
    agents.set(event.agent, { ...before, ...event });
    if (event.phone === "unregistered" && before.phone !== "unregistered") alert(`坐席 ${event.agent} 话机未注册，不会分配来电`);
    renderAgents();
  } else if (event.type === "agent.auto_break") {
    alert(`坐席 ${event.agent}：${event.detail}`);
  } else if (event.type === "security.outbound_refused") {
    alert(`拒绝外呼 ${event.number}（${event.reason}）`);
  } else if (event.type === "speech.emergency") {
    alert(`来电 ${event.caller_number || ""} 提到「${event.words.join("、")}」：疑似紧急情况，可转 ${event.number}`);
  } else if (event.type === "reports.live") {
    renderFigures(event);
  } else if (event.type === "supervision.monitor" && event.action === "failed") {
    alert(`班长话机 ${event.phone} 未接通`);
  }
  if (QUEUE_EVENTS.has(event.type)) refreshQueue();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/events?access_token=${encodeURIComponent(token)}`);
  socket.onopen = () => { $("#link").textContent = "实时"; $("#link").className = "link up"; };
  socket.onmessage = (message) => hear(JSON.parse(message.data));
  socket.onclose = () => {
    $("#link").textContent = "连接中断，正在重连"; $("#link").className = "link down";
    setTimeout(start, 2000);  // fetch the floor again, then listen again: nothing missed stays missed
  };
}

async function start() {
  try {
    await api("GET", "/api/monitors");  // supervisors and administrators only
    const list = await api("GET", "/api/agents");
    agents.clear();
    for (const agent of list) agents.set(agent.agent, agent);
    renderAgents();
    await refreshQueue();
    renderFigures(await api("GET", "/api/reports/live"));
    $("#login").hidden = true;
    $("#board").hidden = false;
    connect();
  } catch (error) {
    $("#board").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = error.status === 403 ? "仅班长和管理员可查看大屏" : error.status === 401 ? "令牌无效" : `无法连接：${error.message}`;
  }
}

$("#login").onsubmit = (submit) => {
  submit.preventDefault();
  token = $("#token").value.trim();
  sessionStorage.setItem("hotline-token", token);
  start();
};
setInterval(() => {  // the durations tick
  for (const td of document.querySelectorAll("[data-since]")) td.textContent = duration(Number(td.dataset.since));
}, 1000);
if (token) start(); else $("#login").hidden = false;
