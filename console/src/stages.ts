/** The stage names the console works with: this one first, then the registered ones. */
import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';

export const STAGE_NAMES = gql`
  query ConsoleStageNames { serverInfo { stage } stages { id name isLocal } }
`;

export function useStageNames(): { local: string; remote: string[]; loading: boolean; error: unknown } {
  const { data, loading, error } = useQuery<{ serverInfo: { stage: string }; stages: { id: string; name: string; isLocal: boolean }[] }>(STAGE_NAMES);
  const local = data?.serverInfo.stage ?? '';
  const remote = (data?.stages ?? []).filter((s) => !s.isLocal && s.name !== local).map((s) => s.name);
  return { local, remote, loading, error };
}
