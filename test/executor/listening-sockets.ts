import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Maps the file descriptors of a process tree to the sockets the kernel lists in /proc/net, and
 * reports those that accept incoming traffic: TCP sockets in LISTEN, unconnected UDP sockets
 * bound to a port, and Unix stream sockets that accept connections. Linux only (/proc).
 */

/** One socket of the tree that accepts incoming traffic. */
export type ListeningSocket = {
  readonly pid: number;
  readonly kind: 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'unix';
  readonly inode: string;
  readonly local: string;
};

/** A process and its descendants. */
export async function processTree(rootPid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces and parentheses; the fields after the last ')' do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[1] !== undefined) parents.set(Number(entry), Number(fields[1]));
  }
  const tree = [rootPid];
  for (let index = 0; index < tree.length; index++) {
    for (const [pid, parent] of parents) if (parent === tree[index]) tree.push(pid);
  }
  return tree;
}

/** The inodes of the sockets the process holds open, with the number of descriptors read. */
export async function socketInodes(pid: number): Promise<{ inodes: string[]; fds: number }> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  const inodes: string[] = [];
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.push(match[1]);
  }
  return { inodes, fds: fds.length };
}

/** The sockets of the tree rooted at `rootPid` that accept incoming traffic. */
export async function listeningSockets(rootPid: number): Promise<ListeningSocket[]> {
  const accepting = await acceptingSockets();
  const found: ListeningSocket[] = [];
  for (const pid of await processTree(rootPid)) {
    for (const inode of (await socketInodes(pid)).inodes) {
      const socket = accepting.get(inode);
      if (socket !== undefined) found.push({ pid, inode, ...socket });
    }
  }
  return found;
}

type Accepting = { readonly kind: ListeningSocket['kind']; readonly local: string };

/** Every socket of the machine that accepts incoming traffic, by inode. */
async function acceptingSockets(): Promise<Map<string, Accepting>> {
  const accepting = new Map<string, Accepting>();
  for (const kind of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const lines = (await readFile(`/proc/net/${kind}`, 'utf8')).trim().split('\n').slice(1);
    for (const line of lines) {
      const [, local = '', remote = '', state = '', , , , , , inode = ''] = line
        .trim()
        .split(/\s+/);
      const isTcpListen = kind.startsWith('tcp') && state === '0A';
      // A UDP socket connected to one peer answers only it; an unconnected bound one anyone.
      const isUnconnected = /^0+:0000$/.test(remote);
      const isUdpBound = kind.startsWith('udp') && !local.endsWith(':0000') && isUnconnected;
      if (isTcpListen || isUdpBound) accepting.set(inode, { kind, local });
    }
  }
  const unix = (await readFile('/proc/net/unix', 'utf8')).trim().split('\n').slice(1);
  for (const line of unix) {
    const [, , , flags = '', , , inode = '', path = ''] = line.trim().split(/\s+/);
    // __SO_ACCEPTCON: the socket listens for connections.
    if ((Number.parseInt(flags, 16) & 0x10000) !== 0) {
      accepting.set(inode, { kind: 'unix', local: path });
    }
  }
  return accepting;
}
