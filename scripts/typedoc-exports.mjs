/**
 * TypeDoc plugin for `npm run docs:api`: the `notExported` check for every documented package.
 *
 * TypeDoc's own check only looks at types declared in the one package it names the project
 * after (the root `omnigate`), so with the SDK and caps documented side by side it checks
 * neither. This runs the same rule over each package in `packagesRequiringDocumentation`: a
 * type a documented signature names must itself be documented (exported from an entry point).
 * Each miss is a validation warning, which `treatValidationWarningsAsErrors` turns into a
 * failed build.
 */
import { Application, makeRecursiveVisitor } from "typedoc";

/** @param {Application} app */
export function load(app) {
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (!app.options.getValue("validation").notExported) return;
    const packages = new Set(app.options.getValue("packagesRequiringDocumentation"));
    const warned = new Set();
    let owner = project;
    const visitor = makeRecursiveVisitor({
      reference(type) {
        const id = type.symbolId;
        if (type.reflection || type.externalUrl || type.isIntentionallyBroken() || !id) return;
        if (!packages.has(id.packageName)) return;
        const file = `${id.packageName}/${id.packagePath}`;
        const key = id.getStableKey();
        if (warned.has(key)) return;
        warned.add(key);
        app.logger.validationWarning(
          `${type.qualifiedName}, defined in ${file}, is referenced by ${owner.getFriendlyFullName()} but not included in the documentation`,
        );
      },
    });
    for (const reflection of Object.values(project.reflections)) {
      owner = reflection;
      reflection.type?.visit(visitor);
      reflection.default?.visit(visitor);
      reflection.overwrites?.visit(visitor);
      for (const type of reflection.implementedTypes ?? []) type.visit(visitor);
    }
  });
}
