// What the schema cannot say about the dhcp section (pools inside their subnet, reservations not
// shared, no overlapping subnets, known groups, options the server owns): the DHCP server's own
// config compiler decides, and its first complaint becomes a config problem that src/config
// places at the right file:line (`bootherd config check`, `serve`).
import type { SemanticProblem } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { compileDhcpConfig, DhcpConfigError } from './compile.ts';

export function checkDhcpConfig(config: Config): SemanticProblem | undefined {
  try {
    compileDhcpConfig({ ...config.dhcp, interfaces: [] });
    return undefined;
  } catch (err) {
    if (!(err instanceof DhcpConfigError)) throw err;
    // Messages read "dhcp.subnets[0] (198.18.0.0/24).pools[1]: what is wrong; what to do".
    const m = /^(\S+?)(?: \([^)]*\))?(\S*): (.*)$/s.exec(err.message);
    const key = m === null ? 'dhcp' : `${m[1] ?? ''}${m[2] ?? ''}`;
    const text = m?.[3] ?? err.message;
    const cut = text.lastIndexOf('; ');
    return { key, message: cut < 0 ? text : text.slice(0, cut), fix: cut < 0 ? 'see docs/configuration.md (dhcp)' : text.slice(cut + 2) };
  }
}
