// A progress line (rows, rows/s, ETA) on stderr when it is a terminal; silent otherwise, so
// logs and CI output stay clean.
export interface Progress {
  update(rowsDone: number, totalRows: number | null): void;
  done(): void;
}

const SILENT: Progress = { update() {}, done() {} };

export function createProgress(stream: NodeJS.WriteStream = process.stderr, label = 'scan'): Progress {
  if (!stream.isTTY) return SILENT;
  const started = performance.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(rowsDone, totalRows) {
      const now = performance.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? rowsDone / seconds : 0;
      const parts = [`${label}: ${rowsDone.toLocaleString('en-US')} rows`, `${Math.round(rate).toLocaleString('en-US')} rows/s`];
      if (totalRows && totalRows > 0) {
        const share = Math.min(1, rowsDone / totalRows);
        const width = 24;
        const filled = Math.round(share * width);
        const eta = rate > 0 ? (totalRows - rowsDone) / rate : 0;
        parts.unshift(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0)}%`);
        parts.push(`ETA ${eta.toFixed(1)}s`);
      }
      stream.write(`\r${parts.join('  ')}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
