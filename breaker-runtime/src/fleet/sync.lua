-- One breaker's sync for one instance: adds its outcome deltas to the fleet's window (once per
-- batch), moves the fleet's circuit, and returns the fleet's view. Every key is the breaker's,
-- under one hash tag, so the script runs on one node of a cluster.
--
-- A batch is named by its life and its sequence number. The life is a random number drawn when
-- the breaker joins the fleet, its sequence numbers counting from 1 within it: an instance
-- restarted under the id it had (a pod's name), or a breaker that joins again in the same
-- process, numbers its batches from 1 again, and a new life's batches are added from its first.
-- A batch is a repeat (an earlier send of it was added, its answer lost) only if the id's last
-- batch added is of the same life and numbered at least as high.
--
-- KEYS: 1 meta (hash: epoch, state, until, streak, refreshed)
--       2 buckets (hash: "<bucket>:c"/"<bucket>:f")
--       3 seen (sorted set: instance, scored by the ms of its last sync)
--       4 failing (sorted set: instance, scored by the ms of its last sync as failing)
--       5 seqs (hash: instance -> "<life>:<sequence>" of its last batch applied)
--       6 leases (hash: instance -> expiry ms)
--       7 trials (hash: instance -> ms of its successful trial)
-- ARGV: 1 instance  2 batch, "<life>:<sequence>" (the life in hex, the sequence in decimal)
--       3 epoch the instance knows ("" for none)  4 window ms
--       5 bucket ms  6 request volume threshold  7 error threshold %  8 quorum %
--       9 sleep window ms  10 sleep window max ms (0: none)  11 jitter % (0: none)
--       12 trial leases  13 lease ms  14 failing (0/1)  15 trial (0 none, 1 success, 2 failure)
--       16 wants a lease (0/1)  17 the channel trips are announced on  18 the breaker's name
--       19 number of deltas, then (age ms, calls, failures) per delta
-- Returns: { epoch, applied (0 repeat, 1 applied, 2 store lost its data), calls, failures,
--            instances, failing instances, state (0 closed, 1 open, 2 half-open),
--            sleep left ms, lease left ms, streak }
local meta, buckets, seen, failing, seqs, leases, trials =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local id = ARGV[1]
local life, seq = string.match(ARGV[2], '^(%x+):(%d+)$')
if not life then
  return redis.error_reply('ARGV[2] must be <life>:<sequence>, got ' .. ARGV[2])
end
seq = tonumber(seq)
local known = ARGV[3]
local window = tonumber(ARGV[4])
local bucket = tonumber(ARGV[5])

-- The server's clock: every instance's ages are read against the same one.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- An abandoned breaker's keys (every instance stopped syncing it: a family's evicted key, a
-- breaker gone from the code) go away by themselves: two to three windows after the last sync
-- (at least a minute, at most three windows or a minute past it); while the fleet is open,
-- not before its open period ends, and while it is half-open, not before a trial lease would,
-- so that a trip lasts as long as it should. The expiry is set again every third of it (and
-- when the state changes), not at every sync, and on each key that a write may have created.
local ttl
local refresh = false
local function expire(key)
  redis.call('PEXPIRE', key, ttl)
end

local fields = redis.call('HMGET', meta, 'epoch', 'state', 'until', 'streak', 'refreshed')
local epoch = fields[1]
local lost = false
if not epoch then
  epoch = time[1] .. '.' .. time[2] .. '.' .. id
  redis.call('HSET', meta, 'epoch', epoch, 'state', 0, 'until', 0, 'streak', 0)
  fields = { epoch, 0, 0, 0, 0 }
  refresh = true
  lost = known ~= ''
elseif known ~= '' and known ~= epoch then
  lost = true
end
local refreshed = tonumber(fields[5]) or 0

local function sleep_ms(streak)
  local sleep = tonumber(ARGV[9])
  local longest = tonumber(ARGV[10])
  if longest > 0 then
    sleep = math.min(sleep * 2 ^ streak, longest)
  end
  local jitter = tonumber(ARGV[11])
  if jitter > 0 then
    -- The microseconds of the server's clock as the random draw: scripts get no other.
    sleep = sleep + math.floor(sleep * jitter / 100 * (tonumber(time[2]) % 1000) / 1000)
  end
  return math.floor(sleep)
end

local state = tonumber(fields[2])
local until_ms = tonumber(fields[3])
local streak = tonumber(fields[4])
local function set_state(next_state, next_until, next_streak)
  state, until_ms, streak = next_state, next_until, next_streak
  redis.call('HSET', meta, 'state', state, 'until', until_ms, 'streak', streak)
  redis.call('DEL', leases, trials)
  refresh = true
  if state == 1 then
    -- Announced, so that every instance opens now rather than at its next sync. A store that
    -- refuses it (an ACL without the channel) leaves the trip to the syncs: pcall, not call.
    redis.pcall('PUBLISH', ARGV[17], (until_ms - now) .. ' ' .. ARGV[18])
  end
end
if state == 1 and now >= until_ms then
  set_state(2, 0, streak)
end

local applied = 0
if lost then
  -- A store that lost the fleet's data: nothing of this batch is added (the instance sends its
  -- whole window next, which holds it), and the instance learns the new epoch.
  applied = 2
else
  -- Anything else stored (nothing, another life's, another format) is not this life's.
  local last_life, last_seq = string.match(redis.call('HGET', seqs, id) or '', '^(%x+):(%d+)$')
  if last_life ~= life or tonumber(last_seq) < seq then applied = 1 end
end
-- The keys a write may have created (a field added, which may be the key's first), by index.
local created = {}
if applied == 1 then
  if redis.call('HSET', seqs, id, ARGV[2]) == 1 then created[5] = true end
  local count = tonumber(ARGV[19])
  for i = 0, count - 1 do
    local age = tonumber(ARGV[20 + 3 * i])
    local calls = tonumber(ARGV[21 + 3 * i])
    local failures = tonumber(ARGV[22 + 3 * i])
    if age < window then
      local b = math.floor((now - age) / bucket)
      -- A count equal to what was added is a new field: the hash may be new too.
      if calls > 0 and redis.call('HINCRBY', buckets, b .. ':c', calls) == calls then
        created[2] = true
      end
      if failures > 0 and redis.call('HINCRBY', buckets, b .. ':f', failures) == failures then
        created[2] = true
      end
    end
  end
  -- A trial's outcome counts once, with the batch that carries it.
  local trial = tonumber(ARGV[15])
  if state == 2 and trial == 2 then
    set_state(1, now + sleep_ms(streak + 1), math.min(streak + 1, 31))
  elseif state == 2 and trial == 1 then
    if redis.call('HSET', trials, id, now) == 1 then created[7] = true end
  end
end

-- This instance is active, and failing or not.
if redis.call('ZADD', seen, now, id) == 1 then created[3] = true end
if ARGV[14] == '1' then
  if redis.call('ZADD', failing, now, id) == 1 then created[4] = true end
else
  redis.call('ZREM', failing, id)
end

-- Instances that have not synced within the window are not active; after three windows they
-- are forgotten, with their last batch's number. Both sets are sorted by time, so counting the
-- active and failing instances and dropping the forgotten costs O(log n) in the fleet's size,
-- not a walk over every instance (each instance is dropped once, when it is forgotten).
local forget_before = '(' .. (now - 3 * window)
local forgotten = redis.call('ZRANGEBYSCORE', seen, '-inf', forget_before)
if #forgotten > 0 then
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', forget_before)
  -- In slices: a script's call takes a bounded number of arguments.
  for first = 1, #forgotten, 1000 do
    redis.call('HDEL', seqs, unpack(forgotten, first, math.min(first + 999, #forgotten)))
  end
end
-- A failing instance's score is when it synced, so it was active then: those within the window
-- are the active instances failing now.
redis.call('ZREMRANGEBYSCORE', failing, '-inf', '(' .. (now - window))
local active = redis.call('ZCOUNT', seen, now - window, '+inf')
local failing_count = redis.call('ZCOUNT', failing, now - window, '+inf')

-- The window: buckets that started within it; older ones are dropped.
local oldest = math.floor((now - window) / bucket)
local calls, failures = 0, 0
local counts = redis.call('HGETALL', buckets)
for i = 1, #counts, 2 do
  local field = counts[i]
  local b = tonumber(string.match(field, '^(%-?%d+):'))
  if b == nil or b <= oldest then
    redis.call('HDEL', buckets, field)
  elseif string.sub(field, -1) == 'c' then
    calls = calls + tonumber(counts[i + 1])
  else
    failures = failures + tonumber(counts[i + 1])
  end
end

local quorum = math.max(2, math.ceil(active * tonumber(ARGV[8]) / 100))
if state == 0 then
  if calls >= tonumber(ARGV[6]) and failures * 100 >= tonumber(ARGV[7]) * calls
    and failing_count >= quorum then
    set_state(1, now + sleep_ms(0), 0)
  end
elseif state == 2 then
  -- Closed by successful trials of at least two instances (of the only one, alone).
  if redis.call('HLEN', trials) >= math.min(2, math.max(active, 1)) then
    set_state(0, 0, 0)
    redis.call('DEL', buckets, failing)
    calls, failures, failing_count = 0, 0, 0
  end
end

-- Trial leases, while half-open: a few instances at a time, each for a lifetime.
local lease_left = 0
if state == 2 then
  local lease_list = redis.call('HGETALL', leases)
  local held = 0
  for i = 1, #lease_list, 2 do
    local expiry = tonumber(lease_list[i + 1])
    if expiry <= now then
      redis.call('HDEL', leases, lease_list[i])
    else
      held = held + 1
      if lease_list[i] == id then lease_left = expiry - now end
    end
  end
  if lease_left == 0 and ARGV[16] == '1' and held < tonumber(ARGV[12])
    and redis.call('HEXISTS', trials, id) == 0 then
    lease_left = tonumber(ARGV[13])
    if redis.call('HSET', leases, id, now + lease_left) == 1 then created[6] = true end
  end
end

ttl = math.max(3 * window, 60000)
if state == 1 then
  ttl = math.max(ttl, until_ms - now + 3 * window)
elseif state == 2 then
  ttl = math.max(ttl, tonumber(ARGV[13]) + 3 * window)
end
if refresh or now - refreshed >= ttl / 3 then
  redis.call('HSET', meta, 'refreshed', now)
  for i = 1, 7 do expire(KEYS[i]) end
else
  for i = 2, 7 do
    if created[i] then expire(KEYS[i]) end
  end
end

local sleep_left = 0
if state == 1 then sleep_left = until_ms - now end
return { epoch, applied, calls, failures, active, failing_count, state, sleep_left, lease_left,
  streak }
