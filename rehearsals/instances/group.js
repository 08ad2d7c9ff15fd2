// The fleet rehearsal's Auto Scaling group: a driver that does what the group does, with the settings of
// the synthesized stack (size, health-check grace period, lifecycle hooks and their timeouts and default
// results, instance refresh preferences, the target group it registers instances with). It launches
// instances from the launch template's user data (parts.js: an overlay of the rootfs under real systemd),
// keeps each in Pending:Wait until the boot completes the launch hook (CONTINUE: InService and registered
// with the balancer; ABANDON or the hook's timeout: terminated), replaces an instance the balancer finds
// unhealthy after the grace period, and on termination (scale-in, refresh, replacement) deregisters it,
// sets its metadata's autoscaling/target-lifecycle-state to Terminated, waits for the drain hook's CONTINUE
// or timeout, then powers it off. It answers the group's API calls the instances and the operator make
// (CompleteLifecycleAction, RecordLifecycleActionHeartbeat, DescribeAutoScalingGroups) and the target
// group's (RegisterTargets, DeregisterTargets), through the AWS front. Scaling decisions are the
// scenario's: setDesired(n), refresh(userData) and interrupt(instance) (a Spot interruption notice).
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const { prepareInstance, bootInstance, stopInstance, leaderPid, sleep, stepTimes, bootLog } = require("./parts");

function only(resources, kind) {
  const all = Object.values(resources[kind] || {});
  if (all.length !== 1) throw new Error(`expected one ${kind}, found ${all.length}`);
  return all[0];
}

/** The group's settings, from the synthesized stack. */
function groupSettings(stack) {
  const r = stack.resource;
  const group = only(r, "aws_autoscaling_group");
  const hooks = {};
  for (const hook of Object.values(r.aws_autoscaling_lifecycle_hook || {})) {
    hooks[hook.lifecycle_transition === "autoscaling:EC2_INSTANCE_LAUNCHING" ? "launch" : "terminate"] = {
      name: hook.name,
      timeoutSeconds: Number(hook.heartbeat_timeout),
      defaultResult: hook.default_result,
    };
  }
  if (!hooks.launch || !hooks.terminate) throw new Error("expected a launch and a terminate lifecycle hook");
  const prefs = group.instance_refresh?.preferences || {};
  return {
    name: group.name,
    minSize: Number(group.min_size),
    maxSize: Number(group.max_size),
    healthCheckType: group.health_check_type,
    graceSeconds: Number(group.health_check_grace_period ?? 300),
    hooks,
    refresh: {
      minHealthyPercentage: Number(prefs.min_healthy_percentage ?? 90),
      maxHealthyPercentage: Number(prefs.max_healthy_percentage ?? 100),
      warmupSeconds: Number(prefs.instance_warmup ?? group.default_instance_warmup ?? 0),
      skipMatching: prefs.skip_matching === true,
    },
  };
}

const xml = (action, result = "", ns = "http://autoscaling.amazonaws.com/doc/2011-01-01/") =>
  `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></${action}Response>`;
const error = (code, message) => ({
  status: 400,
  body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`,
});

class Group {
  /**
   * @param settings groupSettings(stack)
   * @param options { balancer, targetGroupArn, work, efs, caPem, names, metadata (IMDS map by address), netns prefix, log }
   */
  constructor(settings, options) {
    Object.assign(this, options);
    this.settings = settings;
    this.instances = new Map();
    this.desired = settings.minSize;
    this.next = 1;
    this.template = null;
    this.version = 0;
    this.calls = [];
    this.running = true;
    this.monitor = this.watch();
  }

  /** Every instance not yet terminated, oldest first. */
  active() {
    return [...this.instances.values()].filter((i) => !/^Terminat/.test(i.state));
  }

  inService() {
    return this.active().filter((i) => i.state === "InService");
  }

  /** A new launch template version (what a ref change or the first apply makes). */
  setTemplate(userData) {
    this.version += 1;
    this.template = { version: this.version, userData };
    return this.version;
  }

  network(index) {
    const ns = `${this.netns}-i${index}`;
    const ip = (...args) => execFileSync("ip", args);
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
    ip("link", "add", `i${index}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
    ip("link", "set", `i${index}`, "master", "br0", "up");
    ip("-n", ns, "addr", "add", `10.99.1.${index}/16`, "dev", "eth0");
    ip("-n", ns, "link", "set", "eth0", "up");
    ip("-n", ns, "route", "add", "169.254.169.254/32", "dev", "eth0");
    return ns;
  }

  launch(reason) {
    const index = this.next++;
    const netns = this.network(index);
    const instance = prepareInstance(this.work, index, this.template.userData, this.caPem, `i${index}`, this.names);
    Object.assign(instance, { netns, version: this.template.version, state: "Pending:Wait", launchedAt: Date.now(), reason, beats: 0 });
    instance.metadata = { "autoscaling/target-lifecycle-state": "InService", "spot/instance-action": undefined };
    this.metadata[instance.address] = { id: instance.id, role: this.settings.name, metadata: instance.metadata };
    this.instances.set(instance.id, instance);
    bootInstance(instance, this.efs);
    this.hookTimer(instance, "launch");
    this.log(`group: launching ${instance.id} (template v${instance.version}; ${reason})`);
    return instance;
  }

  /** The hook's heartbeat timeout: restarted by each heartbeat; on expiry the hook's default result applies. */
  hookTimer(instance, which) {
    clearTimeout(instance.hook?.timer);
    const hook = this.settings.hooks[which];
    instance.hook = {
      which,
      name: hook.name,
      timer: setTimeout(() => this.complete(instance, hook.defaultResult, "timeout"), hook.timeoutSeconds * 1000),
    };
  }

  complete(instance, result, by) {
    const hook = instance.hook;
    if (!hook) return false;
    clearTimeout(hook.timer);
    instance.hook = null;
    this.log(`group: ${instance.id} ${hook.name} hook completed with ${result} (${by})`);
    if (hook.which === "launch") {
      instance.launchResult = { result, by, at: Date.now() };
      if (result === "CONTINUE") {
        instance.state = "InService";
        instance.inServiceAt = Date.now();
        this.balancer.register(instance.id, instance.address).catch((err) => this.log(`group: register ${instance.id}: ${err.message}`));
      } else {
        this.terminate(instance, `launch ${result} (${by})`);
        this.reconcile();
      }
    } else {
      instance.terminateResult = { result, by, at: Date.now() };
      instance.hookDone?.();
    }
    return true;
  }

  /** Scale-in, a refresh, a replacement: deregister, Terminated in metadata, the drain hook, power off. */
  async terminate(instance, reason) {
    if (/^Terminat/.test(instance.state)) return instance.terminated;
    instance.state = "Terminating";
    instance.terminatingAt = Date.now();
    instance.metadata["autoscaling/target-lifecycle-state"] = "Terminated";
    this.log(`group: terminating ${instance.id} (${reason})`);
    instance.terminated = (async () => {
      clearTimeout(instance.hook?.timer);
      instance.hook = null;
      await this.balancer.deregister(instance.id);
      instance.state = "Terminating:Wait";
      const done = new Promise((resolve) => (instance.hookDone = resolve));
      this.hookTimer(instance, "terminate");
      await done;
      await stopInstance(instance, 30000);
      instance.state = "Terminated";
      instance.terminatedAt = Date.now();
      this.log(
        `group: ${instance.id} terminated ${((instance.terminatedAt - instance.terminatingAt) / 1000).toFixed(0)}s after the termination began`,
      );
    })();
    return instance.terminated;
  }

  /** Launches or terminates to reach the desired capacity; scale-in takes the oldest template, then the oldest instance. */
  reconcile() {
    const active = this.active();
    for (let n = active.length; n < this.desired; n++) this.launch("capacity");
    const surplus = active.length - this.desired;
    if (surplus > 0) {
      const victims = [...active].sort((a, b) => a.version - b.version || a.launchedAt - b.launchedAt).slice(0, surplus);
      for (const victim of victims) this.terminate(victim, "scale-in");
      return victims;
    }
    return [];
  }

  setDesired(n) {
    if (n < this.settings.minSize || n > this.settings.maxSize)
      throw new Error(`desired ${n} is outside ${this.settings.minSize}-${this.settings.maxSize}`);
    this.desired = n;
    return this.reconcile();
  }

  /** Health: the balancer's view, for InService instances past the grace period (health check type ELB). */
  async watch() {
    while (this.running) {
      await sleep(1000);
      let states;
      try {
        states = await this.balancer.states();
      } catch {
        continue;
      }
      for (const instance of this.inService()) {
        const state = states[instance.id];
        if (state === "healthy" && !instance.servingAt) {
          instance.servingAt = Date.now();
          this.log(`group: ${instance.id} serving ${((instance.servingAt - instance.launchedAt) / 1000).toFixed(1)}s after launch`);
        }
        if (
          this.settings.healthCheckType === "ELB" &&
          state === "unhealthy" &&
          Date.now() - instance.inServiceAt > this.settings.graceSeconds * 1000
        ) {
          instance.unhealthyAt = Date.now();
          this.log(`group: ${instance.id} is unhealthy in the target group: replacing it`);
          this.terminate(instance, "unhealthy");
          this.launch(`replacing ${instance.id}`);
        }
      }
    }
  }

  /** Instance refresh (Rolling): new instances first, up to max healthy %, warmed, then old ones go, keeping min healthy %. */
  async refresh(userData) {
    const version = this.setTemplate(userData);
    const { minHealthyPercentage, maxHealthyPercentage, warmupSeconds } = this.settings.refresh;
    this.log(
      `group: instance refresh to template v${version} (min healthy ${minHealthyPercentage}%, max ${maxHealthyPercentage}%, warmup ${warmupSeconds}s)`,
    );
    const old = () => this.active().filter((i) => i.version !== version);
    const replaced = old();
    while (old().length > 0) {
      const desired = this.desired;
      const room = Math.floor((desired * maxHealthyPercentage) / 100) - this.active().length;
      const batch = [];
      for (let n = 0; n < Math.min(Math.max(room, 0), old().length); n++) batch.push(this.launch(`instance refresh to v${version}`));
      for (const instance of batch) {
        while (instance.state === "Pending:Wait") await sleep(500);
        if (instance.state !== "InService")
          throw new Error(`instance refresh: ${instance.id} did not come into service (${JSON.stringify(instance.launchResult)})`);
      }
      if (batch.length > 0) await sleep(warmupSeconds * 1000);
      const canGo = Math.min(old().length, this.inService().length - Math.ceil((desired * minHealthyPercentage) / 100));
      if (canGo <= 0 && batch.length === 0) throw new Error("instance refresh cannot make progress");
      await Promise.all(
        old()
          .slice(0, Math.max(canGo, 0))
          .map((i) => this.terminate(i, `instance refresh to v${version}`)),
      );
    }
    return replaced;
  }

  /** The group's and the target group's API, as the instances and the operator call it (through the AWS front). */
  intercept(body, req) {
    const form = new URLSearchParams(body);
    const action = form.get("Action");
    const host = req.headers.host || "";
    if (/^elasticloadbalancing\./.test(host) || form.get("Version") === "2015-12-01") {
      if (action !== "RegisterTargets" && action !== "DeregisterTargets") return null;
      const arn = form.get("TargetGroupArn");
      const id = form.get("Targets.member.1.Id");
      this.calls.push({ action, instance: id, at: Date.now() });
      if (arn !== this.targetGroupArn) return error("TargetGroupNotFound", `One or more target groups not found: ${arn}`);
      const instance = this.instances.get(id);
      if (!instance) return error("InvalidTarget", `The following targets are not in a running state: ${id}`);
      if (action === "RegisterTargets")
        this.balancer.register(id, instance.address).catch((err) => this.log(`register ${id}: ${err.message}`));
      else this.balancer.deregister(id).catch((err) => this.log(`deregister ${id}: ${err.message}`));
      const ns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
      return { status: 200, body: xml(action, "", ns) };
    }
    if (action === "DescribeAutoScalingGroups") {
      const names = [...form.entries()].filter(([k]) => k.startsWith("AutoScalingGroupNames.member.")).map(([, v]) => v);
      if (names.length > 0 && !names.includes(this.settings.name)) return { status: 200, body: xml(action, "<AutoScalingGroups/>") };
      const members = this.active()
        .map(
          (i) =>
            `<member><InstanceId>${i.id}</InstanceId><AvailabilityZone>eu-west-2a</AvailabilityZone><LifecycleState>${i.state}</LifecycleState><HealthStatus>Healthy</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`,
        )
        .join("");
      const group = `<member><AutoScalingGroupName>${this.settings.name}</AutoScalingGroupName><MinSize>${this.settings.minSize}</MinSize><MaxSize>${this.settings.maxSize}</MaxSize><DesiredCapacity>${this.desired}</DesiredCapacity><Instances>${members}</Instances><HealthCheckType>${this.settings.healthCheckType}</HealthCheckType><HealthCheckGracePeriod>${this.settings.graceSeconds}</HealthCheckGracePeriod></member>`;
      return { status: 200, body: xml(action, `<AutoScalingGroups>${group}</AutoScalingGroups>`) };
    }
    if (action !== "CompleteLifecycleAction" && action !== "RecordLifecycleActionHeartbeat") return null;
    const id = form.get("InstanceId");
    const hookName = form.get("LifecycleHookName");
    const instance = this.instances.get(id);
    this.calls.push({ action, instance: id, hook: hookName, result: form.get("LifecycleActionResult"), at: Date.now() });
    if (form.get("AutoScalingGroupName") !== this.settings.name || !instance || !instance.hook || instance.hook.name !== hookName) {
      return error("ValidationError", `No active Lifecycle Action found with instance ID ${id}`);
    }
    if (action === "RecordLifecycleActionHeartbeat") {
      instance.beats += 1;
      this.hookTimer(instance, instance.hook.which);
    } else {
      this.complete(instance, form.get("LifecycleActionResult"), "the instance");
    }
    return { status: 200, body: xml(action) };
  }

  /**
   * A Spot interruption: EC2's two-minute notice appears in the instance's metadata (spot/instance-action);
   * the group takes the scale-in path at once (deregistration, the drain hook) and launches a replacement
   * (capacity rebalancing); when the notice's time comes, EC2 reclaims the instance, drained or not.
   * Returns the replacement.
   */
  interrupt(instance, noticeSeconds = 120) {
    instance.interruptedAt = Date.now();
    const time = new Date(instance.interruptedAt + noticeSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    instance.metadata["spot/instance-action"] = JSON.stringify({ action: "terminate", time });
    this.log(`group: ${instance.id} has a Spot interruption notice (terminate at ${time})`);
    instance.reclaim = setTimeout(() => {
      if (instance.state === "Terminated") return;
      instance.reclaimed = true;
      this.log(`group: EC2 reclaims ${instance.id} (${instance.state})`);
      this.kill(instance);
    }, noticeSeconds * 1000);
    const replacement = this.launch(`replacing ${instance.id} (Spot interruption)`);
    this.terminate(instance, "Spot interruption");
    return replacement;
  }

  /** Kills an instance without warning: its init gets SIGKILL (everything in it dies; the balancer finds out). */
  kill(instance) {
    process.kill(Number(leaderPid(instance)), "SIGKILL");
    instance.killedAt = Date.now();
    this.log(`group: ${instance.id} killed (SIGKILL to its init)`);
  }

  async stop() {
    this.running = false;
    await this.monitor;
    for (const instance of this.instances.values()) {
      clearTimeout(instance.hook?.timer);
      clearTimeout(instance.reclaim);
    }
    await Promise.all([...this.instances.values()].map((i) => stopInstance(i, 10000)));
  }

  describe(instance) {
    const steps = stepTimes(instance);
    return `${instance.id}: ${Object.entries(steps)
      .map(([s, t]) => `${s} ${t}s`)
      .join(", ")}`;
  }

  bootLog(instance) {
    return bootLog(instance);
  }

  readInside(instance, file) {
    const at = `${instance.root}/${file}`;
    return fs.existsSync(at) ? fs.readFileSync(at, "utf8") : "";
  }
}

module.exports = { Group, groupSettings };
