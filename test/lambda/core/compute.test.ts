import { classifyLaunchError, LaunchError, withUnofferedTypes } from '../../../lambda/core/compute';

const notOffered = (instanceType: string, zone: string): LaunchError => ({
  code: 'Unsupported',
  kind: classifyLaunchError('Unsupported'),
  instanceType,
  message: `Your requested instance type (${instanceType}) is not supported in your requested Availability Zone (${zone}).`,
});

describe('launch error classes', () => {
  test('errors that stop spot but not on-demand are their own class; authorization failures count as spot only during a spot launch', () => {
    expect(classifyLaunchError('AuthFailure.ServiceLinkedRoleCreationNotPermitted')).toBe('spot');
    expect(classifyLaunchError('MaxSpotInstanceCountExceeded', 'spot')).toBe('spot');
    expect(classifyLaunchError('UnauthorizedOperation', 'spot')).toBe('spot');
    expect(classifyLaunchError('UnauthorizedOperation', 'on-demand')).toBe('config');
    expect(classifyLaunchError('InsufficientInstanceCapacity', 'spot')).toBe('capacity');
    expect(classifyLaunchError('VcpuLimitExceeded', 'on-demand')).toBe('quota');
  });

  test('types offered in none of the subnets\' zones make a configuration error that names the fix', () => {
    const result = withUnofferedTypes({
      instances: [],
      errors: [notOffered('m6a.large', 'us-east-1a'), notOffered('m6a.large', 'us-east-1b'), notOffered('m7a.large', 'us-east-1a')],
    }, ['m6a.large', 'm7a.large']);

    expect(result.errors.map((e) => e.kind)).toEqual(['config', 'config', 'config']);
    expect(result.errors[0].message).toMatch(/m6a\.large is offered in none of the runner subnets' Availability Zones .*list instance types these zones offer/);
  });

  test('a zone that does not offer one type is an ordinary shortage while another type or zone may still serve', () => {
    const oneTypeLeft = { instances: [], errors: [notOffered('m6a.large', 'us-east-1a')] };
    const otherError = { instances: [], errors: [notOffered('m6a.large', 'us-east-1a'), { code: 'InsufficientInstanceCapacity', kind: 'capacity' as const, message: '', instanceType: 'm7a.large' }] };
    const launchedSome = { instances: [{ instanceId: 'i-0123456789abcdef0', market: 'spot' as const }], errors: [notOffered('m7a.large', 'us-east-1a')] };

    expect(withUnofferedTypes(oneTypeLeft, ['m6a.large', 'm7a.large'])).toBe(oneTypeLeft);
    expect(withUnofferedTypes(otherError, ['m6a.large', 'm7a.large'])).toBe(otherError);
    expect(withUnofferedTypes(launchedSome, ['m7a.large'])).toBe(launchedSome);
  });
});
