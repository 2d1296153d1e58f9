// Report figures recomputed from the raw activity rows, independently of the
// server: the rows are read straight from the store (sqlite3 / psql), local
// days come from the JavaScript Intl time-zone data (not the server's TZif
// reader), and the sums and averages follow the definitions in
// api/openapi.yaml. Used to check that the rollups behind the reports equal
// the raw rows they summarise.
import { execFile } from 'node:child_process';
import { IS_PG } from './server.mjs';

/** Rows of one query as objects, from the deployment's store. */
export function rawRows(dep, query) {
  const [cmd, args] = IS_PG
    ? ['psql', [dep.databaseUrl, '-X', '-qAt', '-c',
      `SELECT coalesce(json_agg(t), '[]'::json) FROM (${query}) t`]]
    : ['sqlite3', ['-cmd', '.timeout 10000', '-json', dep.databaseUrl, query]];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60000, maxBuffer: 512 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd}: ${stderr || err.message}`));
      const text = stdout.trim();
      try {
        const rows = text === '' ? [] : JSON.parse(text);
        resolve(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) =>
          [k, typeof v === 'string' && /^-?\d+$/.test(v) && k.endsWith('_at') ? Number(v) : v]))));
      } catch (e) {
        reject(new Error(`${cmd}: not JSON: ${text.slice(0, 200)}`));
      }
    });
  });
}

/** ms -> 'YYYY-MM-DD' in timeZone. */
export function localDayOf(timeZone) {
  const fmt = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
  });
  return (ms) => fmt.format(new Date(ms));
}

/** The first instant after t on a later local day (binary search, 1 ms). */
function nextDayStart(dayOf, t) {
  const day = dayOf(t);
  let lo = t;
  let hi = t + 27 * 3600 * 1000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dayOf(mid) === day) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Every 'YYYY-MM-DD' from..to inclusive. */
export function datesBetween(from, to) {
  const out = [];
  for (let d = new Date(`${from}T00:00:00Z`); ; d = new Date(d.getTime() + 86400000)) {
    const s = d.toISOString().slice(0, 10);
    out.push(s);
    if (s === to) return out;
  }
}

/** Hours in local day `date` of timeZone (23 or 25 on DST change days). */
export function hoursInDay(timeZone, date) {
  const dayOf = localDayOf(timeZone);
  let t = Date.parse(`${date}T12:00:00Z`) - 36 * 3600 * 1000;
  while (dayOf(t) < date) t = nextDayStart(dayOf, t);
  return (nextDayStart(dayOf, t) - t) / 3600000;
}

const avg = (sum, count, scale) =>
  (count > 0 ? Math.floor((2 * sum + count * scale) / (2 * count * scale)) : null);

const DAY_KEYS = ['conversations', 'resolved', 'inbound', 'outbound', 'frCount', 'frMs',
  'resCount', 'resMs', 'calls', 'answered', 'missed', 'talk', 'contacts', 'tickets',
  'ticketsResolved'];
const AGENT_KEYS = ['handled', 'resolved', 'sent', 'frCount', 'frMs', 'calls', 'talk',
  'onlineMs'];

function figures(s) {
  return {
    conversations: s.conversations,
    conversationsResolved: s.resolved,
    messagesInbound: s.inbound,
    messagesOutbound: s.outbound,
    avgFirstResponseSeconds: avg(s.frMs, s.frCount, 1000),
    avgResolutionSeconds: avg(s.resMs, s.resCount, 1000),
    calls: s.calls,
    callsAnswered: s.answered,
    callsMissed: s.missed,
    avgTalkSeconds: avg(s.talk, s.answered, 1),
    contactsCreated: s.contacts,
    ticketsCreated: s.tickets,
    ticketsResolved: s.ticketsResolved,
  };
}

/**
 * Recomputes the export of tenantId for local days from..to as of nowMs:
 * { summary, timeseries: [...], productivity: Map(agentId -> figures) }.
 */
export async function recompute(dep, tenantId, timeZone, from, to, nowMs) {
  const t = `'${tenantId.replace(/'/g, "''")}'`;
  const [convs, msgs, agents, calls, tickets, intervals, live, contacts] = await Promise.all([
    rawRows(dep, 'SELECT created_at, closed_at, first_response_at, first_response_agent_id,' +
      ` closed_by FROM conversations WHERE tenant_id = ${t}`),
    rawRows(dep, `SELECT direction, sender_id, created_at FROM messages WHERE tenant_id = ${t}`),
    rawRows(dep, `SELECT agent_id, assigned_at FROM conversation_agents WHERE tenant_id = ${t}`),
    rawRows(dep, 'SELECT agent_id, outcome, started_at, talk_seconds FROM calls' +
      ` WHERE tenant_id = ${t}`),
    rawRows(dep, `SELECT created_at, resolved_at FROM tickets WHERE tenant_id = ${t}`),
    rawRows(dep, 'SELECT agent_id, started_at, ended_at FROM presence_intervals' +
      ` WHERE tenant_id = ${t} AND status = 'online'`),
    rawRows(dep, `SELECT agent_id, since FROM agent_presence WHERE tenant_id = ${t}` +
      " AND status = 'online'"),
    rawRows(dep, `SELECT created_at FROM contacts WHERE tenant_id = ${t}`).catch(() => []),
  ]);
  const dayOf = localDayOf(timeZone);
  const dates = datesBetween(from, to);
  const days = new Map(dates.map((d) => [d, Object.fromEntries(DAY_KEYS.map((k) => [k, 0]))]));
  const perAgent = new Map();
  const day = (ms) => days.get(dayOf(ms));
  const agent = (id, ms) => {
    if (!days.has(dayOf(ms))) return undefined;
    if (!perAgent.has(id)) perAgent.set(id, Object.fromEntries(AGENT_KEYS.map((k) => [k, 0])));
    return perAgent.get(id);
  };
  const bump = (row, key, n = 1) => { if (row) row[key] += n; };

  for (const c of convs) {
    bump(day(c.created_at), 'conversations');
    if (c.closed_at != null) {
      bump(day(c.closed_at), 'resolved');
      bump(day(c.closed_at), 'resCount');
      bump(day(c.closed_at), 'resMs', c.closed_at - c.created_at);
      bump(agent(c.closed_by, c.closed_at), 'resolved');
    }
    if (c.first_response_at != null) {
      const waited = c.first_response_at - c.created_at;
      bump(day(c.first_response_at), 'frCount');
      bump(day(c.first_response_at), 'frMs', waited);
      bump(agent(c.first_response_agent_id, c.first_response_at), 'frCount');
      bump(agent(c.first_response_agent_id, c.first_response_at), 'frMs', waited);
    }
  }
  for (const m of msgs) {
    bump(day(m.created_at), m.direction === 'inbound' ? 'inbound' : 'outbound');
    if (m.direction === 'outbound') bump(agent(m.sender_id, m.created_at), 'sent');
  }
  for (const a of agents) bump(agent(a.agent_id, a.assigned_at), 'handled');
  for (const c of calls) {
    bump(day(c.started_at), 'calls');
    if (c.outcome === 'answered') {
      bump(day(c.started_at), 'answered');
      bump(day(c.started_at), 'talk', Number(c.talk_seconds));
      bump(agent(c.agent_id, c.started_at), 'calls');
      bump(agent(c.agent_id, c.started_at), 'talk', Number(c.talk_seconds));
    } else if (c.outcome === 'missed') {
      bump(day(c.started_at), 'missed');
    }
  }
  for (const k of tickets) {
    bump(day(k.created_at), 'tickets');
    if (k.resolved_at != null) bump(day(k.resolved_at), 'ticketsResolved');
  }
  for (const c of contacts) bump(day(Number(c.created_at)), 'contacts');
  const spells = [...intervals.map((i) => [i.agent_id, i.started_at, i.ended_at]),
    ...live.map((l) => [l.agent_id, Number(l.since), nowMs])];
  for (const [id, start, end] of spells) {
    for (let s = start; s < end;) {
      const next = Math.min(nextDayStart(dayOf, s), end);
      bump(agent(id, s), 'onlineMs', next - s);
      s = next;
    }
  }

  const total = Object.fromEntries(DAY_KEYS.map((k) => [k, 0]));
  for (const d of days.values()) for (const k of DAY_KEYS) total[k] += d[k];
  const productivity = new Map();
  for (const [id, a] of perAgent) {
    productivity.set(id, {
      conversationsHandled: a.handled,
      conversationsResolved: a.resolved,
      messagesSent: a.sent,
      avgFirstResponseSeconds: avg(a.frMs, a.frCount, 1000),
      callsHandled: a.calls,
      talkSeconds: a.talk,
      onlineSeconds: Math.floor(a.onlineMs / 1000),
    });
  }
  return {
    summary: figures(total),
    timeseries: dates.map((d) => ({ date: d, ...figures(days.get(d)) })),
    productivity,
  };
}
