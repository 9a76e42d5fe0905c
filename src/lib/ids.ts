import { randomBytes } from 'node:crypto';

export const newRunId = () => randomBytes(16).toString('hex');
export const newUuid = () => randomBytes(16).toString('hex');

// MLflow's generated run names: adjective-noun-NNN.
const ADJECTIVES = ['able', 'bold', 'brave', 'bright', 'calm', 'clean', 'clever', 'crisp', 'dapper', 'eager', 'fair', 'gentle', 'glad', 'grand', 'keen', 'kind', 'lively', 'lucky', 'merry', 'neat', 'nimble', 'polite', 'proud', 'quick', 'quiet', 'rare', 'sharp', 'shy', 'silent', 'smart', 'steady', 'sunny', 'swift', 'tidy', 'vast', 'warm', 'wise', 'witty', 'young', 'zesty'];
const NOUNS = ['ant', 'bass', 'bat', 'bear', 'bee', 'carp', 'cat', 'colt', 'crab', 'crow', 'deer', 'doe', 'dove', 'eel', 'elk', 'finch', 'fish', 'fox', 'frog', 'goat', 'gull', 'hare', 'hawk', 'hen', 'jay', 'koi', 'lark', 'lynx', 'mole', 'moth', 'newt', 'owl', 'ox', 'panda', 'ram', 'seal', 'shrew', 'snail', 'swan', 'toad', 'trout', 'wasp', 'whale', 'wolf', 'wren'];

export function randomRunName(): string {
  const pick = <T>(xs: T[]) => xs[randomBytes(2).readUInt16BE() % xs.length];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${randomBytes(2).readUInt16BE() % 1000}`;
}
