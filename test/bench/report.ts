/** Plain-text and markdown tables. */

export type Cell = string | number;

const SHORT: Record<string, string> = {
  AssociatePhoneNumbersWithVoiceConnectorGroup: 'Assoc',
  DisassociatePhoneNumbersFromVoiceConnectorGroup: 'Disassoc',
  AssociatePhoneNumbersWithVoiceConnector: 'AssocVC',
  GetPhoneNumber: 'Get',
  ListPhoneNumbers: 'List',
  GetVoiceConnectorGroup: 'GetGroup',
};

export function callSummary(calls: Record<string, number>): string {
  const parts = Object.entries(calls).sort(([a], [b]) => a.localeCompare(b)).map(([op, n]) => `${SHORT[op] ?? op} ${n}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

export function fmtMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(0)} ms`;
}

export function fmtRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-';
}

export function fmtBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

export function textTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const escape = (cell: Cell) => String(cell).replace(/\|/g, '\\|');
  return [
    `| ${headers.map(escape).join(' | ')} |`,
    `|${headers.map((_, c) => (c === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/** Collects each section once, for the console and for results.md. */
export class Report {
  private readonly text: string[] = [];
  private readonly markdown: string[] = [];

  public heading(title: string): void {
    this.text.push('', `== ${title}`);
    this.markdown.push('', `### ${title}`, '');
    console.log(`\n== ${title}`);
  }

  public table(headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
    const text = textTable(headers, rows);
    this.text.push(text);
    this.markdown.push(markdownTable(headers, rows), '');
    console.log(text);
  }

  public note(line: string): void {
    this.text.push(line);
    this.markdown.push(`${line}  `);
    console.log(line);
  }

  public toMarkdown(preamble: string): string {
    return `${preamble}\n${this.markdown.join('\n')}\n`;
  }
}
