// Refuses Node older than 20.19 before anything installs: the packages are ESM-only and
// CommonJS users load them through require(esm), which Node enables by default from 20.19.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(
    `Tessera needs Node.js >= 20.19 (found ${process.versions.node}): its packages are ES modules ` +
      'loaded from CommonJS through require(esm), which older Node does not support. ' +
      'Install Node 20.19+ or 22+ (e.g. with nvm) and try again.',
  );
  process.exit(1);
}
