// Drives Atrium's Socket.IO transport with the official socket.io-client.
// The Go test (hub/transport_socketio_test.go) passes a JSON config in
// ATRIUM_SIO_TEST; this script exits non-zero with a message on the first
// failed expectation.
import { io } from "socket.io-client";
import assert from "node:assert/strict";

const cfg = JSON.parse(process.env.ATRIUM_SIO_TEST);
const url = cfg.url;
const sockets = [];

function connect(auth, transports) {
  const s = io(url, { auth, transports, reconnection: false, forceNew: true });
  sockets.push(s);
  s.events = [];
  s.waiters = [];
  s.on("event", (e) => {
    s.events.push(e);
    s.waiters = s.waiters.filter((w) => !w(e));
  });
  return s;
}

function connected(s) {
  return new Promise((resolve, reject) => {
    s.once("connect", resolve);
    s.once("connect_error", reject);
  });
}

// until resolves with the events received so far once one matches pred.
function until(s, pred) {
  return new Promise((resolve) => {
    const done = () => resolve(s.events.slice());
    if (s.events.some(pred)) return done();
    s.waiters.push((e) => (pred(e) ? (done(), true) : false));
  });
}

const call = (s, ev, data) => s.timeout(10000).emitWithAck(ev, data);
const runEvents = (evs) => evs.filter((e) => !e.type.startsWith("presence.")).map((e) => `${e.seq}:${e.type}:${JSON.stringify(e.data)}`);

async function main() {
  // Bad credentials are refused with connect_error carrying {code, message}.
  const bad = connect({ token: "not-a-jwt" }, ["websocket"]);
  await assert.rejects(connected(bad), (err) => {
    assert.equal(err.data.code, "unauthenticated");
    assert.ok(err.message.length > 0);
    return true;
  });
  const none = connect(undefined, ["polling"]);
  await assert.rejects(connected(none), (err) => err.data.code === "unauthenticated");

  // Owner over WebSocket, member over long-polling, viewer with a connection
  // string over the default (polling, then upgrade).
  const owner = connect({ token: cfg.owner_token }, ["websocket"]);
  const member = connect({ token: cfg.member_token }, ["polling"]);
  const viewer = connect({ connection_string: cfg.viewer_connection_string });
  const joined = new Promise((resolve) => viewer.once("joined", resolve));
  await Promise.all([connected(owner), connected(member), connected(viewer)]);
  const vj = await joined;
  assert.equal(vj.ok, true, JSON.stringify(vj));
  assert.equal(vj.chat_id, cfg.chat_id);
  assert.equal(vj.role, "viewer");

  for (const s of [owner, member]) {
    const ack = await call(s, "join", { chat_id: cfg.chat_id });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(typeof ack.seq, "number");
    assert.equal(ack.recovered, false);
    assert.ok(Array.isArray(ack.presence));
  }

  // Bad payloads get error acks, and the socket stays usable.
  for (const [ev, data, code] of [
    ["join", "not an object", "invalid"],
    ["join", { chat_id: 5 }, "invalid"],
    ["join", { chat_id: cfg.chat_id, since: "x" }, "invalid"],
    ["dance", {}, "unknown_event"],
    ["message", { chat_id: cfg.chat_id, content: "no string" }, "unauthenticated"],
    ["join_workspace", { workspace_id: cfg.workspace_id }, "forbidden"],
  ]) {
    const s = ev === "join_workspace" ? viewer : member;
    const ack = await call(s, ev, data);
    assert.equal(ack.ok, false, `${ev} ${JSON.stringify(data)}: ${JSON.stringify(ack)}`);
    assert.equal(ack.error.code, code, `${ev}: ${JSON.stringify(ack)}`);
  }

  // The viewer cannot send, even holding the owner's message string.
  const refused = await call(viewer, "message", { chat_id: cfg.chat_id, message_string: cfg.owner_message_string, content: "hi" });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, "forbidden");

  const sent = await call(owner, "message", { chat_id: cfg.chat_id, message_string: cfg.owner_message_string, content: "hello from node", client_id: "n1" });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.runs.length, 1);

  const done = (e) => e.type === "run.completed";
  const [o, m, v] = await Promise.all([owner, member, viewer].map((s) => until(s, done)));
  const want = runEvents(o);
  assert.deepEqual(runEvents(m), want, "member saw another stream");
  assert.deepEqual(runEvents(v), want, "viewer saw another stream");
  const created = o.find((e) => e.type === "message.created");
  assert.equal(created.data.message.content, "hello from node");
  assert.equal(created.data.message.author.email, cfg.owner_email);
  const answer = o.filter((e) => e.type === "run.delta").map((e) => e.data.text).join("");
  assert.equal(o.find(done).data.message.content, answer);
  assert.match(answer, /echo model/);

  // A client that comes back with since gets exactly the events after it.
  const since = created.seq;
  const back = connect({ token: cfg.member_token }, ["websocket"]);
  await connected(back);
  const rejoin = await call(back, "join", { chat_id: cfg.chat_id, since });
  assert.equal(rejoin.recovered, true, JSON.stringify(rejoin));
  const replay = await until(back, done);
  const tail = o.filter((e) => e.seq > since && e.seq <= o.find(done).seq);
  assert.deepEqual(replay.slice(0, tail.length).map((e) => e.seq), tail.map((e) => e.seq));
  assert.deepEqual(runEvents(replay.slice(0, tail.length)), runEvents(tail));

  console.log(JSON.stringify({ ok: true, events: want.length }));
}

main()
  .then(() => {
    for (const s of sockets) s.close();
    process.exit(0);
  })
  .catch((err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  });
