import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AssetHashType, DockerImage, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IFunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, type ISource, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { PublicConfig } from '../../contract/public-config';
import { contentSecurityPolicy, HSTS_MAX_AGE_SECONDS } from '../security-headers';

/** The module exporting `buildWeb()`, relative to the project root. */
const WEB_BUILD_MODULE = 'web/build.ts';

/** An API path served by a Function URL through the distribution. */
export interface ApiOrigin {
  /** CloudFront path pattern: the route's path, e.g. `/chat/history`. */
  readonly pathPattern: string;
  readonly functionUrl: IFunctionUrl;
  /** A streamed response (SSE): gets the longer origin read timeout. */
  readonly streaming: boolean;
}

export interface WebHostingProps {
  /** The built web client (see `webClientSource`): its files become the site root. */
  readonly site: ISource;
  /** Written to `/config.json` at deploy time, so tokens (pool ids) resolve to their values. */
  readonly publicConfig: PublicConfig;
  /** One cache behaviour each, in order. */
  readonly api: readonly ApiOrigin[];
  /** Added to every API request, replacing a viewer's header of the same name (the origin secret). */
  readonly originHeaders?: Readonly<Record<string, string>>;
  /** ARN of the CLOUDFRONT-scoped WAF web ACL in front of everything (lib/constructs/edge-firewall.ts). */
  readonly webAclArn: string;
}

/**
 * Per-packet wait for a streamed answer. CloudFront's origin read timeout counts the gap between two
 * packets, not the whole response: 30 s by default, up to 60 s without a quota increase (180 s with one).
 * The chat stream sends tokens continuously, and the function gives up on the model after
 * FIRST_TOKEN_TIMEOUT_MS (15 s) before the first token and INFERENCE_IDLE_TIMEOUT_MS (10 s) between
 * tokens, so no gap reaches 60 s. Raise either past it, or add a step that can sit silent longer (a wait
 * for capacity before inference), and the stream must send SSE keep-alive comments (`: ping`) more often
 * than this, or CloudFront ends it with a 504 mid-answer.
 */
export const STREAM_READ_TIMEOUT = Duration.seconds(60);

/** How long access logs are kept. */
export const ACCESS_LOG_DAYS = 90;

/**
 * The site: a private S3 bucket behind CloudFront (Origin Access Control), with the API routes on the
 * same distribution so the browser talks to one origin (no CORS, one TLS connection, one CSP `'self'`).
 *
 * The API origins are the Function URLs, whose auth type stays NONE; CloudFront adds `originHeaders`
 * (the origin secret) and the functions refuse requests without it, so the URLs serve only through the
 * distribution and its WAF (functions/http/origin-guard.ts says why not OAC).
 */
export class WebHosting extends Construct {
  public readonly bucket: Bucket;
  /** CloudFront's access logs (`cloudfront/`) and the site bucket's server access logs (`site-bucket/`). */
  public readonly logBucket: Bucket;
  public readonly distribution: Distribution;
  public readonly deployment: BucketDeployment;

  public constructor(scope: Construct, id: string, props: WebHostingProps) {
    super(scope, id);

    // Who called what, kept 90 days for incident review. No bodies nor Authorization are logged.
    // CloudFront's standard logs are written with ACLs, hence OBJECT_WRITER.
    this.logBucket = new Bucket(this, 'LogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(ACCESS_LOG_DAYS) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    // Holds only build output: rebuilt on every deploy, so it goes with the stack.
    this.bucket = new Bucket(this, 'SiteBucket', {
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'site-bucket/',
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    // The same headers the local gateway sends (lib/security-headers.ts); the browser talks to Cognito.
    const securityHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Chat app: CSP (no framing), HSTS, nosniff, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy([
            `https://cognito-idp.${Stack.of(this).region}.amazonaws.com`,
          ]),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(HSTS_MAX_AGE_SECONDS),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const additionalBehaviors: Record<string, BehaviorOptions> = {};
    for (const route of props.api) {
      if (additionalBehaviors[route.pathPattern]) {
        throw new Error(`Two API routes share the path ${route.pathPattern}`);
      }
      additionalBehaviors[route.pathPattern] = {
        // https://<url-id>.lambda-url.<region>.on.aws/ → <url-id>.lambda-url.<region>.on.aws
        origin: new HttpOrigin(Fn.select(2, Fn.split('/', route.functionUrl.url)), {
          protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [OriginSslPolicy.TLS_V1_2],
          readTimeout: route.streaming ? STREAM_READ_TIMEOUT : undefined,
          customHeaders: { ...props.originHeaders },
          // No responseCompletionTimeout: a turn may stream for minutes (the function caps it).
        }),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        // Per-user answers: never cached. With caching disabled, AllViewerExceptHostHeader forwards
        // every viewer header (Authorization, Idempotency-Key, x-retry-attempt, content-type), the query
        // string and cookies; Host becomes the URL's own, which a Function URL requires.
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        // No response headers policy: the function's headers (x-message-id, retry-after, the rate-limit
        // headers, content-type: text/event-stream) reach the browser unchanged. No compression: it
        // would buffer the event stream.
        compress: false,
      };
    }

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Chat app: web client (S3) and API (Function URLs)',
      webAclId: props.webAclArn,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        compress: true,
      },
      additionalBehaviors,
      // No distribution-wide errorResponses (SPA fallback to index.html): they would also rewrite the
      // API's 403/404 answers. The client is a single page at `/`.
    });

    this.deployment = new BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      sources: [props.site, Source.jsonData('config.json', props.publicConfig)],
      // File names carry no content hash (app.js): browsers revalidate every load (ETag → 304), the
      // edge keeps a day and is invalidated by each deployment.
      cacheControl: [
        CacheControl.setPublic(),
        CacheControl.maxAge(Duration.seconds(0)),
        CacheControl.sMaxAge(Duration.days(1)),
        CacheControl.mustRevalidate(),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      logGroup: new LogGroup(this, 'DeploymentLogGroup', {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
  }

  /** `https://<id>.cloudfront.net`. */
  public get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}

/**
 * The web client as a deployment source, built by `buildWeb()` (web/build.ts) through the asset's
 * local bundling. CDK runs it only for stacks it bundles: `cdk synth`/`deploy` of this stack, not unit
 * tests (`aws:cdk:bundling-stacks: []`) nor other stacks. The build is async and bundling hooks are
 * synchronous, so it runs in a child Node process (with tsx, as the CDK app itself).
 */
export function webClientSource(projectRoot: string): ISource {
  return Source.asset(path.join(projectRoot, 'web'), {
    // Hash of the built files: the deployment (and the invalidation) changes only when they do.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never pulled: the local build either succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
      local: {
        tryBundle: (outputDir) => {
          buildWebInto(projectRoot, outputDir);
          return true;
        },
      },
    },
  });
}

interface BuiltWeb {
  readonly dir: string;
  readonly files: readonly string[];
  readonly bytes: number;
  readonly gzipBytes: number;
}

function buildWebInto(projectRoot: string, outputDir: string): void {
  const moduleUrl = pathToFileURL(path.join(projectRoot, WEB_BUILD_MODULE)).href;
  const script = `import { buildWeb } from ${JSON.stringify(moduleUrl)};
process.stdout.write(JSON.stringify(await buildWeb()));`;
  const stdout = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', script],
    {
      cwd: projectRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const built = parseBuiltWeb(stdout);
  // Only the files this build produced: a stale file left in the build folder is not shipped.
  for (const file of built.files) {
    const target = path.join(outputDir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(path.join(built.dir, file), target);
  }
  process.stderr.write(
    `web client: ${built.files.join(', ')}: ${built.bytes} B (${built.gzipBytes} B gzipped)\n`,
  );
}

function parseBuiltWeb(stdout: string): BuiltWeb {
  const value: unknown = JSON.parse(stdout);
  if (typeof value !== 'object' || value === null) throw new Error('buildWeb() returned no object');
  const { dir, files, bytes, gzipBytes } = value as Record<string, unknown>;
  if (typeof dir !== 'string' || typeof files !== 'object' || files === null) {
    throw new Error('buildWeb() must return { dir, files }');
  }
  const names = Object.keys(files);
  if (!names.includes('index.html')) throw new Error('buildWeb() produced no index.html');
  return {
    dir,
    files: names,
    bytes: typeof bytes === 'number' ? bytes : 0,
    gzipBytes: typeof gzipBytes === 'number' ? gzipBytes : 0,
  };
}
