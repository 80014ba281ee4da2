// Progress for long work: a line redrawn in place on a terminal, nothing at all when piped.
export interface Progress {
  update(done: number, total: number, label: string): void;
  done(): void;
}

export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY !== true) return { update: () => {}, done: () => {} };
  let drawn = false;
  return {
    update(done, total, label) {
      const width = 24;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      stream.write(`\r\x1b[K[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} ${label}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
