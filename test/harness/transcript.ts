// Splitting a zkCli-style transcript into one segment per command. The commands are fed on stdin,
// each followed by a marker `ls <prefix>N` on a missing node; the marker's "Node does not exist"
// line ends a segment. Watch events are printed asynchronously, so their lines are collected
// apart, in arrival order. Used for zkCli.sh itself (test/compat) and for `kraal shell` (test/shell).
import { Normalizer, sortBracketList } from './normalize.js';

/** zkCli's start-up chatter and JVM logging: not compared. */
export const ZKCLI_NOISE = [
  /^SLF4J: /, /^Connecting to /, /^Welcome to ZooKeeper!$/, /^JLine support is (disabled|enabled)$/,
  /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d.*\b(INFO|WARN|ERROR|DEBUG)\b/, /^log4j:/,
];

export interface Transcript {
  /** One entry per command: the command and its output lines (normalized). */
  segments: { cmd: string; out: string[] }[];
  /** Watch events (WatchedEvent lines, normalized) in arrival order; session events left out. */
  events: string[];
  /** Commands whose marker came back. */
  completed: number;
}

/** stdin for the shell: every command followed by its marker, then quit. */
export function markedScript(cmds: readonly string[], markerPrefix: string): string {
  const lines: string[] = [];
  cmds.forEach((c, i) => lines.push(c, `ls ${markerPrefix}${i}`));
  lines.push('quit');
  return lines.join('\n') + '\n';
}

export function splitTranscript(stdout: string, cmds: readonly string[], markerPrefix: string, ports: number[]): Transcript {
  const norm = new Normalizer(ports);
  const marker = new RegExp(`^Node does not exist: ${markerPrefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(\\d+)$`);
  // a message printed without a line end (zkCli's setAcl -R) glues the marker's line to it
  const glued = new RegExp(`^(.+)(Node does not exist: ${markerPrefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\d+)$`);
  const segments: Transcript['segments'] = [];
  const events: string[] = [];
  let cur: string[] = [];
  let idx = 0;
  for (const raw of stdout.split('\n')) {
    let line = raw.replace(/\r$/, '');
    const g = glued.exec(line);
    if (g) {
      cur.push(norm.text(g[1]!));
      line = g[2]!;
    }
    if (ZKCLI_NOISE.some((re) => re.test(line)) || line === 'WATCHER::' || line.trim() === '') continue;
    if (line.startsWith('WatchedEvent ')) {
      if (!/type:None path:null/.test(line)) events.push(norm.text(line));
      continue;
    }
    if (marker.test(line)) {
      segments.push({ cmd: cmds[idx] ?? '?', out: cur });
      cur = [];
      idx++;
      continue;
    }
    cur.push(sortBracketList(norm.text(line)));
  }
  if (cur.length) segments.push({ cmd: '<after the last command>', out: cur });
  return { segments, events, completed: idx };
}
