// A small UDP agent run inside a test namespace (`ip netns exec NS node udp-agent.ts`). It reads
// JSON commands on stdin, one per line, and writes JSON events on stdout, one per line:
//   {"op":"open","id":"a","interface":"veth0","port":67}      -> {"ev":"opened","id":"a","port":67} | {"ev":"error","id":"a","code":...}
//   {"op":"openPlain","id":"p","port":0}                         -> a dgram socket bound to 0.0.0.0 (no device)
//   {"op":"send","id":"a","to":"255.255.255.255","port":68,"hex":"..."} -> {"ev":"sent","id":"a"} | {"ev":"send-error","id":"a","code":"ENETUNREACH"}
//   {"op":"close","id":"a"}                                      -> {"ev":"closed","id":"a"}
// and for every datagram received: {"ev":"recv","id":"a","from":"198.18.1.1","fromPort":67,"hex":"..."}.
// It exits when stdin closes.
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { openInterfaceSocket } from '../../src/net/socket.ts';

const sockets = new Map<string, dgram.Socket>();
const out = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

function watch(id: string, s: dgram.Socket): void {
  s.on('message', (msg, rinfo) => out({ ev: 'recv', id, from: rinfo.address, fromPort: rinfo.port, hex: msg.toString('hex') }));
  s.on('error', (err) => out({ ev: 'socket-error', id, message: err.message }));
}

async function handle(cmd: Record<string, unknown>): Promise<void> {
  const id = String(cmd.id);
  switch (cmd.op) {
    case 'open': {
      try {
        const s = await openInterfaceSocket({ interface: String(cmd.interface), port: Number(cmd.port) });
        sockets.set(id, s);
        watch(id, s);
        out({ ev: 'opened', id, port: s.address().port });
      } catch (err) {
        const e = err as { code?: string; message: string };
        out({ ev: 'error', id, code: e.code, message: e.message });
      }
      return;
    }
    case 'openPlain': {
      const s = dgram.createSocket('udp4');
      s.once('error', (err) => out({ ev: 'error', id, message: err.message }));
      s.bind(Number(cmd.port), () => {
        s.setBroadcast(true);
        sockets.set(id, s);
        watch(id, s);
        out({ ev: 'opened', id, port: s.address().port });
      });
      return;
    }
    case 'send': {
      const s = sockets.get(id);
      if (s === undefined) return out({ ev: 'send-error', id, code: 'NO_SOCKET' });
      s.send(Buffer.from(String(cmd.hex), 'hex'), Number(cmd.port), String(cmd.to), (err) => {
        if (err) out({ ev: 'send-error', id, code: (err as NodeJS.ErrnoException).code, message: err.message });
        else out({ ev: 'sent', id });
      });
      return;
    }
    case 'close': {
      sockets.get(id)?.close();
      sockets.delete(id);
      out({ ev: 'closed', id });
      return;
    }
    default:
      out({ ev: 'error', id, message: `unknown op ${String(cmd.op)}` });
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let cmd: Record<string, unknown>;
  try {
    cmd = JSON.parse(line) as Record<string, unknown>;
  } catch {
    out({ ev: 'error', message: 'bad json' });
    return;
  }
  void handle(cmd);
});
rl.on('close', () => {
  for (const s of sockets.values()) s.close();
  process.exit(0);
});
out({ ev: 'ready' });
