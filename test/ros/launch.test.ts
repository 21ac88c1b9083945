import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fieldsOf } from '../../src/cli/command.ts';
import { rosCommand } from '../../src/cli/commands/ros.ts';

const LAUNCH = new URL('../../launch/', import.meta.url).pathname;

interface Element {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly children: Element[];
}

/** A strict little XML reader for launch files: balanced tags, quoted attributes, nothing else between tags. */
function parseXml(text: string): Element {
  const root: Element = { tag: '#root', attrs: {}, children: [] };
  const stack: Element[] = [root];
  const token = /<!--[\s\S]*?-->|<\?xml[^?]*\?>|<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*"[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    if (text.slice(at, m.index).trim() !== '') throw new Error(`text outside tags at ${at}: ${text.slice(at, m.index).trim().slice(0, 40)}`);
    at = m.index + m[0].length;
    if (!m[2]) continue;
    const [, close, tag, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open?.tag !== tag) throw new Error(`</${tag}> closes <${open?.tag}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*"([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]} on <${tag}>`);
      attrs[a[1]!] = a[2]!;
    }
    const el: Element = { tag: tag!, attrs, children: [] };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (text.slice(at).trim() !== '') throw new Error('text after the last tag');
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]!.tag}> is never closed`);
  return root;
}

const files = readdirSync(LAUNCH).filter((f) => f.endsWith('.launch.xml'));

describe('ROS 2 launch files (checked without ROS)', () => {
  it('has a bridge + record launch file and a deploy launch file', () => {
    expect(files.sort()).toEqual(['bridge_record.launch.xml', 'deploy.launch.xml']);
  });

  it('the strict reader rejects what ros2 launch would', () => {
    expect(() => parseXml('<launch><arg name="a"></launch>')).toThrow(/closes <arg>/);
    expect(() => parseXml('<launch><arg name=a/></launch>')).toThrow();
    expect(() => parseXml('<launch>')).toThrow(/never closed/);
  });

  for (const file of files) {
    it(`${file}: well-formed, declares port, arm, rate (and model for deploy), uses only declared args and real armbridge flags`, () => {
      const root = parseXml(readFileSync(join(LAUNCH, file), 'utf8'));
      expect(root.children.map((c) => c.tag)).toEqual(['launch']);
      const launch = root.children[0]!;
      const args = launch.children.filter((c) => c.tag === 'arg');
      const declared = args.map((a) => a.attrs.name!);
      for (const a of args) {
        expect(a.attrs.default, `${a.attrs.name} default`).toBeDefined();
        expect(a.attrs.description, `${a.attrs.name} description`).toBeTruthy();
      }
      expect(declared).toEqual(expect.arrayContaining(['port', 'arm', 'rate', ...(file.startsWith('deploy') ? ['model'] : [])]));
      const executables = launch.children.filter((c) => c.tag === 'executable');
      expect(executables.length).toBeGreaterThan(0);
      expect(launch.children.every((c) => c.tag === 'arg' || c.tag === 'executable')).toBe(true);
      const flags = new Set(fieldsOf(rosCommand.options).map((f) => `--${f.flag}`));
      for (const ex of executables) {
        const text = Object.values(ex.attrs).join(' ');
        for (const v of text.matchAll(/\$\(var ([\w-]+)\)/g)) expect(declared, `$(var ${v[1]}) in ${ex.attrs.name}`).toContain(v[1]);
        expect(ex.attrs.cmd).toMatch(/^\$\(var armbridge\) ros (bridge|record|deploy) /);
        for (const f of ex.attrs.cmd!.match(/--[\w-]+/g) ?? []) expect(flags, `${f} in ${ex.attrs.name}`).toContain(f);
        expect(ex.attrs.output).toBe('screen');
      }
      if (file.startsWith('deploy')) expect(executables.some((e) => /ros deploy --model \$\(var model\)/.test(e.attrs.cmd!))).toBe(true);
      else expect(executables.some((e) => /ros bridge --follower \$\(var port\) --arm \$\(var arm\).*--rate \$\(var rate\)/.test(e.attrs.cmd!))).toBe(true);
    });
  }
});
