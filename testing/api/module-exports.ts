import ts from "typescript";

/**
 * The names a module exports, read by the TypeScript checker from its source (so `export *`
 * chains are followed): values as `name`, types and interfaces as `type:name`, sorted.
 */
export function moduleExports(entries: readonly string[]): Map<string, string[]> {
  const program = ts.createProgram([...entries], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ["source"],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${entry}: not a module the checker can read`);
    const names = checker
      .getExportsOfModule(module)
      .map((symbol) => (isValue(checker, symbol) ? symbol.name : `type:${symbol.name}`));
    out.set(
      entry,
      names.sort((a, b) => a.replace(/^type:/, "").localeCompare(b.replace(/^type:/, ""))),
    );
  }
  return out;
}

/** A value export: a value at the end of the alias chain, and no `export type` on the way. */
function isValue(checker: ts.TypeChecker, symbol: ts.Symbol): boolean {
  let at: ts.Symbol | undefined = symbol;
  while (at && at.flags & ts.SymbolFlags.Alias) {
    if (at.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d))) return false;
    at = checker.getImmediateAliasedSymbol(at);
  }
  return at !== undefined && (at.flags & ts.SymbolFlags.Value) !== 0;
}
