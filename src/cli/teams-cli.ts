import { ConfigError, parseConfig } from '../config.js';
import { createDeps, silentLogger } from '../deps.js';
import { createTeam, getTeam, listMembers, listTeams, removeMember, setMember, teamsOf } from '../domain/teams/teams.js';
import { MlflowError } from '../errors.js';
import { share, unshare } from '../auth/sharing.js';

export const TEAMS_USAGE = `cairn teams create TEAM --admin USER [--backend-store-uri URI | --data-dir DIR]
       cairn teams add TEAM USER [--role admin|member|viewer] [--backend-store-uri URI]
       cairn teams remove TEAM USER [--backend-store-uri URI]
       cairn teams members TEAM [--backend-store-uri URI]
       cairn teams list [--user USER] [--backend-store-uri URI]
       cairn teams share experiment|registered_model ID_OR_NAME (--team TEAM | --user USER) --permission READ|EDIT|MANAGE [--backend-store-uri URI]
       cairn teams unshare experiment|registered_model ID_OR_NAME (--team TEAM | --user USER) [--backend-store-uri URI]`;

const SUBCOMMANDS = ['create', 'add', 'remove', 'members', 'list', 'share', 'unshare'] as const;

/**
 * `cairn teams …`: manages teams directly in the database, for an operator with the server's
 * store at hand (the embedded one only while the server is stopped: it holds the folder). Over
 * HTTP the same is /api/2.0/cairn/teams/* and the wandb client's `api.create_team`/`team.invite`.
 */
export async function teamsCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new ConfigError(`unknown command 'teams ${argv.join(' ')}'\nusage: ${TEAMS_USAGE}`);
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  const serverArgs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const own = /^--(admin|role|user|team|permission)(?:=(.*))?$/.exec(a);
    if (own) flags[own[1]] = own[2] ?? rest[++i] ?? '';
    else if (a.startsWith('-')) serverArgs.push(a, ...(a.includes('=') || rest[i + 1]?.startsWith('-') || rest[i + 1] === undefined ? [] : [rest[++i]]));
    else positional.push(a);
  }
  const need = { create: 1, add: 2, remove: 2, members: 1, list: 0, share: 2, unshare: 2 }[sub as (typeof SUBCOMMANDS)[number]];
  if (positional.length !== need) throw new ConfigError(`usage: ${TEAMS_USAGE}`);
  if (sub === 'create' && !flags.admin) throw new ConfigError('a team needs its first admin: --admin USER');
  const deps = await createDeps(parseConfig(serverArgs), { log: silentLogger, poolSize: 1 });
  try {
    const [team, user] = positional;
    if (sub === 'create') {
      const made = await createTeam(deps, team, flags.admin);
      console.error(`cairn: team '${made.name}' created with admin '${flags.admin}'`);
    } else if (sub === 'add') {
      const m = await setMember(deps, team, user, flags.role ?? 'member');
      console.error(`cairn: '${m.username}' is now ${m.role} of team '${team}'`);
    } else if (sub === 'remove') {
      await removeMember(deps, team, user);
      console.error(`cairn: '${user}' removed from team '${team}'`);
    } else if (sub === 'members') {
      for (const m of await listMembers(deps.db, (await getTeam(deps, team)).id)) console.log(`${m.username}\t${m.role}`);
    } else if (sub === 'share' || sub === 'unshare') {
      const [kind, resource] = positional;
      const req = { resource_type: kind, resource_id: resource, team: flags.team, username: flags.user };
      if (sub === 'share') console.error(`cairn: ${kind} ${resource} shared with ${flags.team ? `team '${flags.team}'` : `'${flags.user}'`} at ${await share(deps, { ...req, permission: flags.permission })}`);
      else {
        await unshare(deps, req);
        console.error(`cairn: ${kind} ${resource} no longer shared with ${flags.team ? `team '${flags.team}'` : `'${flags.user}'`}`);
      }
    } else if (flags.user) {
      for (const t of await teamsOf(deps.db, flags.user)) console.log(`${t.name}\t${t.role}`);
    } else {
      for (const t of await listTeams(deps.db)) console.log(t.name);
    }
  } catch (err) {
    if (err instanceof MlflowError) throw new ConfigError(err.message);
    throw err;
  } finally {
    await deps.close();
  }
}
