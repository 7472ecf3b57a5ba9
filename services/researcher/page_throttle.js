'use strict';

// Serverless plugin (osls): after `deploy`, throttle the web pages' methods in the stage's
// method settings. The pages (/app, /app/{proxy+}) need no API key, so the usage plan, which
// throttles keyed requests only, does not hold them back; these settings do, before any
// Lambda runs. The stage is shared by every service of the API and created by their
// deployments, so no stack can own it: the settings are applied with UpdateStage, as osls
// applies its own stage settings (logs, tracing). They stay on the stage across the other
// services' deployments and are applied again on each deploy of this one.
//
// Configuration, in services/researcher/serverless.yml:
//   custom:
//     pageThrottle:
//       paths: [/app, /app/{proxy+}]
//       methods: [GET, POST]
//       rateLimit: 10        # requests per second, steady, per method
//       burstLimit: 20

// "/app/{proxy+}" -> "~1app~1{proxy+}": a method setting's key escapes the path's slashes.
function escapePath(path) {
  return path.replace(/~/g, '~0').replace(/\//g, '~1');
}

// The UpdateStage patch operations for `config` (the pageThrottle block).
function patchOperations(config) {
  const rate = Number(config.rateLimit);
  const burst = Number(config.burstLimit);
  if (!Number.isFinite(rate) || rate <= 0 || !Number.isInteger(burst) || burst <= 0) {
    throw new Error(`pageThrottle: rateLimit and burstLimit must be positive, not ${rate}, ${burst}`);
  }
  const operations = [];
  for (const path of config.paths || []) {
    for (const method of config.methods || []) {
      const key = `/${escapePath(path)}/${String(method).toUpperCase()}`;
      operations.push({ op: 'replace', path: `${key}/throttling/rateLimit`, value: String(rate) });
      operations.push({ op: 'replace', path: `${key}/throttling/burstLimit`, value: String(burst) });
    }
  }
  return operations;
}

class PageThrottlePlugin {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options || {};
    this.log = (utils && utils.log) || console;
    this.hooks = { 'after:deploy:deploy': () => this.apply() };
  }

  async apply() {
    const service = this.serverless.service;
    const config = (service.custom && service.custom.pageThrottle) || null;
    if (!config) return;
    const provider = this.serverless.getProvider('aws');
    const restApiId = service.provider.apiGateway && service.provider.apiGateway.restApiId;
    const stageName = provider.getStage();
    await provider.request('APIGateway', 'updateStage', {
      restApiId,
      stageName,
      patchOperations: patchOperations(config),
    });
    this.log.notice
      ? this.log.notice(`Pages throttled to ${config.rateLimit}/s (burst ${config.burstLimit})`)
      : this.log.log(`Pages throttled to ${config.rateLimit}/s (burst ${config.burstLimit})`);
  }
}

module.exports = PageThrottlePlugin;
module.exports.patchOperations = patchOperations;
