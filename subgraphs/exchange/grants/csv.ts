/**
 * The CSV dialect of Casbin policy files: cells separated by commas and trimmed; a cell that holds
 * a comma or a double quote is written in double quotes, with "" for a quote inside.
 */

/** The cells of one line, or null when a quote is never closed. */
export function splitCsvLine(line: string): string[] | null {
  // Nearly every policy line has no quotes: keep that path cheap (100,000 lines load in well under a second).
  if (!line.includes('"')) return line.split(',').map((c) => c.trim());
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        cell += line.slice(i, q);
        if (line[q + 1] === '"') {
          cell += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') return null;
      cells.push(cell);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      cells.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= line.length) return cells;
    i++; // the comma
  }
}

function needsQuotes(cell: string): boolean {
  return cell.includes(',') || cell.includes('"') || cell !== cell.trim();
}

/** One line, cells joined by ", " as the shipped policy files are written. Newlines become spaces. */
export function formatCsvLine(cells: readonly string[]): string {
  return cells
    .map((raw) => {
      const cell = raw.replace(/[\r\n]+/g, ' ');
      return needsQuotes(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
    })
    .join(', ');
}
