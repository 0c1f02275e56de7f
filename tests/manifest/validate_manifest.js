// Validate a Teams app manifest offline with @microsoft/app-manifest's own validator
// (AppManifestUtils.validateAgainstSchema: ajv-draft-04, allErrors, uri/email/regex formats)
// against the official schema the package bundles for the manifest's `manifestVersion`.
//
//   node validate_manifest.js MANIFEST.json
//
// Prints one JSON line {"schema": PATH, "errors": [...]} and exits 0 when valid, 1 when not,
// 2 when it cannot validate at all (no such schema version, tools missing).
"use strict";

const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const TOOLS = path.resolve(__dirname, "..", "node", "package.json");
const requireTool = Module.createRequire(TOOLS);
const PACKAGE_DIR = path.dirname(requireTool.resolve("@microsoft/app-manifest/package.json"));
const SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v{V}/MicrosoftTeams.schema.json";

function schemaFor(version) {
  const file = path.join(PACKAGE_DIR, "build", "json-schemas", "teams", `v${version}`,
                         "MicrosoftTeams.schema.json");
  if (!/^\d+\.\d+$/.test(version) || !fs.existsSync(file)) {
    throw new Error(`no bundled schema for manifestVersion ${JSON.stringify(version)}`);
  }
  // The same clean-up the package applies when it loads a schema (\a and \v in patterns).
  const text = fs.readFileSync(file, "utf8").replace(/\\a/g, "\\u0007").replace(/\\v/g, "\\u000b");
  return { file, schema: JSON.parse(text) };
}

// @microsoft/app-manifest 1.1.2 requires fs-extra at load time but lists it only under
// devDependencies, so npm does not install it. The validator never touches the file system when
// given the schema; if fs-extra is absent, stand in for the few calls the package makes.
function provideFsExtraIfMissing() {
  try {
    requireTool.resolve("fs-extra", { paths: [PACKAGE_DIR] });
    return;
  } catch {
    // absent: provide the stand-in below
  }
  const standIn = path.join(__dirname, "fs-extra-stand-in.js");
  const module = new Module(standIn);
  module.exports = {
    pathExists: async (p) => fs.existsSync(p),
    readFile: fs.promises.readFile,
    readFileSync: fs.readFileSync,
    writeFile: fs.promises.writeFile,
    writeJson: async (p, value) => fs.promises.writeFile(p, JSON.stringify(value, null, 2)),
  };
  module.loaded = true;
  Module._cache[standIn] = module;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return request === "fs-extra" ? standIn : resolve.call(this, request, ...rest);
  };
}

async function validate(manifest) {
  const { file, schema } = schemaFor(manifest.manifestVersion);
  provideFsExtraIfMissing();
  const { AppManifestUtils } = requireTool("@microsoft/app-manifest");
  const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
  const expectedUrl = SCHEMA_URL.replace("{V}", manifest.manifestVersion);
  if (manifest.$schema !== expectedUrl) {
    errors.push(`/$schema is ${JSON.stringify(manifest.$schema)}, not the schema of manifestVersion ` +
                `${manifest.manifestVersion}: ${expectedUrl}`);
  }
  return { schema: path.relative(PACKAGE_DIR, file), errors };
}

async function main() {
  if (process.argv.length !== 3) {
    throw new Error("usage: node validate_manifest.js MANIFEST.json");
  }
  const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const result = await validate(manifest);
  process.stdout.write(JSON.stringify(result) + "\n");
  return result.errors.length ? 1 : 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (error) => {
    process.stdout.write(JSON.stringify({ schema: null, errors: [], fatal: String(error.message) }) + "\n");
    process.exitCode = 2;
  },
);
