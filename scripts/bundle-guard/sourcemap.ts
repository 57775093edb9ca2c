// Minimal source map v3 reader: maps a generated (line, column) back to the original file, line and
// column, so guard violations found in a bundle can name the TypeScript source that produced them.

export interface RawSourceMap {
  sources: string[];
  mappings: string;
  sourceRoot?: string;
}

export interface OriginalPosition {
  source: string;
  line: number; // 1-based
  column: number; // 1-based
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX: Record<string, number> = {};
for (let i = 0; i < B64.length; i++) B64_INDEX[B64[i]] = i;

function decodeVlq(s: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of s) {
    const d = B64_INDEX[ch];
    if (d === undefined) throw new Error(`bad base64 digit "${ch}" in source map`);
    value += (d & 31) << shift;
    if (d & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

type Segment = [genCol: number, src: number, line: number, col: number];

export class SourceMapReader {
  private lines: Segment[][] = [];
  constructor(private map: RawSourceMap) {
    let src = 0;
    let line = 0;
    let col = 0;
    for (const lineText of map.mappings.split(";")) {
      const segs: Segment[] = [];
      let genCol = 0;
      if (lineText) {
        for (const segText of lineText.split(",")) {
          const v = decodeVlq(segText);
          genCol += v[0];
          if (v.length >= 4) {
            src += v[1];
            line += v[2];
            col += v[3];
            segs.push([genCol, src, line, col]);
          }
        }
      }
      this.lines.push(segs);
    }
  }

  /** line 1-based, column 1-based (as reported by the guard); null when nothing maps there. */
  originalPositionFor(line: number, column: number): OriginalPosition | null {
    const segs = this.lines[line - 1];
    if (!segs || segs.length === 0) return null;
    const col0 = column - 1;
    let best: Segment | null = null;
    for (const s of segs) {
      if (s[0] <= col0) best = s;
      else break;
    }
    if (!best) return null;
    const root = this.map.sourceRoot || "";
    return { source: root + this.map.sources[best[1]], line: best[2] + 1, column: best[3] + 1 };
  }
}
