/**
 * `marginlab calc`: the margin calculator. JSON Lines on stdin → one JSON line per input line on
 * stdout, in order; a line it cannot handle gets {"error": "...", "line": N} and processing goes on.
 * Exit 0 when every line was handled, 65 otherwise.
 *
 * `marginlab calc liq --venue … --side … --entry … --qty … (--wallet … | --leverage …)` answers one
 * liquidation price with a one-line explanation of each term.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  const calc = program
    .command('calc')
    .description('margin calculator: JSON Lines on stdin (ops: liquidationPrice, bankruptcyPrice, maintenanceTier, fundingFee, fundingFees, fundingRate, tradePnl, marginRatio, position) → one JSON line each on stdout')
    .addHelpText(
      'after',
      `
Examples:
  echo '{"op":"bankruptcyPrice","side":"long","entryPrice":10000,"leverage":50}' | marginlab calc
  marginlab calc liq --venue binance-usdm --side long --entry 30000 --qty 1 --leverage 20 --wallet 1500
Exit codes: 0 every line handled, 65 some line answered {"error": ..., "line": N} (stderr says how many), 66 stdin unreadable. Field reference: marginlab's docs/margin.md`,
    )
    .action(async () => {
      const { runCalcStdin } = await import('../../venue/calc-cli.js');
      process.exitCode = await runCalcStdin();
    });

  calc
    .command('liq')
    .description('one liquidation price from flags, with each term explained')
    .option('--venue <id>', 'binance-usdm | bybit-linear | hyperliquid | okx (default: binance-usdm, and the output says so)')
    .requiredOption('--side <side>', 'long | short')
    .requiredOption('--entry <price>', 'entry price')
    .requiredOption('--qty <qty>', 'position size in base units')
    .option('--leverage <x>', 'leverage (initial margin = qty × entry / leverage)')
    .option('--wallet <usdt>', 'isolated wallet / margin of the position (default: qty × entry / leverage)')
    .option('--mode <mode>', 'isolated | cross (cross: --wallet is the cross wallet; single position)', 'isolated')
    .option('--symbol <symbol>', 'symbol whose tier table to use (default: the venue default table)')
    .option('--as-of <date>', 'date whose tier table to use (ISO date, default: today)')
    .option('--mmr <rate>', 'maintenance margin rate (overrides the tier table)')
    .option('--cum <usdt>', 'maintenance amount with --mmr (default 0)')
    .option('--max-leverage <x>', 'Hyperliquid: max leverage of the coin')
    .option('--taker <rate>', 'OKX: taker fee rate in the liquidation condition')
    .option('--extra-margin <usdt>', 'Bybit: margin added after opening')
    .option('--json', 'print one JSON line instead of the explanation')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { runCalcLiq } = await import('../../venue/calc-cli.js');
      process.stdout.write(runCalcLiq(opts));
    });
}
