-- Argo CD resource health check for the ecspower.io kinds: EcsInstancePower, EcsPowerSchedule,
-- EcsPowerOverride and EcsInstancePowerSet (one script for all four; they share the kstatus
-- conditions).
-- Install: see README.md beside this file (argocd-cm keys
-- resource.customizations.health.ecspower.io_<Kind>).
--
--   Healthy      Ready=True for the current generation (an instance in its desired state, a
--                valid schedule (Active), an override in force (Active) or ended (Expired), a
--                set whose members are all Ready (AllReady) or that matches nothing (NoInstances))
--   Degraded     Stalled=True (a terminal error or an invalid spec: a person has to change
--                something; a set: its only members not Ready are Stalled, or discovery is refused)
--   Progressing  everything else: no status yet, status.observedGeneration behind
--                metadata.generation, Reconciling=True, Ready=False or Unknown
local hs = {}

local function describe(c)
  local text = ""
  if c.reason ~= nil and c.reason ~= "" then
    text = c.reason
  end
  if c.message ~= nil and c.message ~= "" then
    if text ~= "" then
      text = text .. ": " .. c.message
    else
      text = c.message
    end
  end
  return text
end

-- Generations print as integers whether the host Lua reads JSON numbers as floats or not.
local function gen(n)
  return string.format("%d", n)
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to report status"
  return hs
end

local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  if observed == nil then
    hs.message = "Waiting for the controller to observe generation " .. gen(generation)
  else
    hs.message = "Waiting for the controller to observe generation " .. gen(generation) ..
      " (status describes generation " .. gen(observed) .. ")"
  end
  return hs
end

local ready, stalled, reconciling = nil, nil, nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    elseif c.type == "Stalled" then
      stalled = c
    elseif c.type == "Reconciling" then
      reconciling = c
    end
  end
end

-- A condition set for an older generation says nothing about the current spec.
local function current(c)
  return generation == nil or c.observedGeneration == nil or c.observedGeneration >= generation
end

if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if ready ~= nil and ready.status == "True" and current(ready) then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
elseif ready ~= nil then
  hs.message = describe(ready)
end
if hs.message == nil or hs.message == "" then
  if obj.kind == "EcsInstancePower" then
    hs.message = "Waiting for the instance to reach the desired state"
  elseif obj.kind == "EcsInstancePowerSet" then
    hs.message = "Waiting for the members to be Ready"
  else
    hs.message = "Waiting for the controller to report status"
  end
end
return hs
