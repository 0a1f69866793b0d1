import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A pod as Kubernetes service discovery would find it. */
export interface Pod {
  name: string;
  namespace: string;
  ip: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  containerPorts: number[];
}

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names?: string[] } }>;
  file_sd_configs?: Array<{ files: string[] }>;
  [key: string]: unknown;
}

export interface PrometheusConfig {
  scrape_configs: ScrapeConfig[];
  [key: string]: unknown;
}

/**
 * Fields and roles of kubernetes_sd_configs as Prometheus defines them (prometheus/prometheus
 * discovery/kubernetes/kubernetes.go: SDConfig, Role.UnmarshalYAML, NamespaceDiscovery), plus
 * the inline HTTP client fields this project does not use. Debian's Prometheus is built
 * without Kubernetes discovery, so promtool cannot check these blocks here.
 */
const K8S_SD_FIELDS = ['api_server', 'role', 'namespaces', 'selectors', 'kubeconfig_file', 'attach_metadata'];
const K8S_SD_ROLES = ['node', 'pod', 'service', 'endpoints', 'endpointslice', 'ingress'];

/** What Prometheus would refuse in the kubernetes_sd_configs of a config, one line each. */
export function kubernetesSdProblems(config: PrometheusConfig): string[] {
  return config.scrape_configs.flatMap((job) =>
    (job.kubernetes_sd_configs ?? []).flatMap((sd) => [
      ...Object.keys(sd)
        .filter((k) => !K8S_SD_FIELDS.includes(k))
        .map((k) => `${job.job_name}: unknown kubernetes_sd_configs field ${k}`),
      ...(K8S_SD_ROLES.includes(sd.role) ? [] : [`${job.job_name}: unknown Kubernetes SD role ${sd.role}`]),
      ...Object.keys(sd.namespaces ?? {})
        .filter((k) => k !== 'names' && k !== 'own_namespace')
        .map((k) => `${job.job_name}: unknown namespaces field ${k}`),
    ]),
  );
}

/** Prometheus's label-name sanitising (util/strutil SanitizeLabelName): anything not [a-zA-Z0-9_] becomes _. */
const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * The targets Kubernetes pod discovery gives for a pod: one per declared container port, with
 * the meta labels of prometheus/prometheus discovery/kubernetes/pod.go (namespace, pod name
 * and IP, pod_label_*, pod_labelpresent_*, pod_annotation_*, pod_annotationpresent_*, the
 * container port number).
 */
export function podTargets(pod: Pod): Array<{ targets: string[]; labels: Record<string, string> }> {
  const meta: Record<string, string> = {
    __meta_kubernetes_namespace: pod.namespace,
    __meta_kubernetes_pod_name: pod.name,
    __meta_kubernetes_pod_ip: pod.ip,
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_phase: 'Running',
  };
  for (const [k, v] of Object.entries(pod.labels)) {
    meta[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
    meta[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(pod.annotations)) {
    meta[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
    meta[`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`] = 'true';
  }
  return pod.containerPorts.map((port) => ({
    targets: [`${pod.ip}:${port}`],
    labels: { ...meta, __meta_kubernetes_pod_container_port_number: String(port) },
  }));
}

/**
 * The same configuration with each job's Kubernetes pod discovery replaced by a file of the
 * targets it would find among `pods` (only those in the namespaces it watches), so a real
 * Prometheus applies the job's own relabelling to them. Everything else is left as it is.
 */
export async function withPodsAsFiles(
  config: PrometheusConfig,
  pods: readonly Pod[],
  dir: string,
): Promise<PrometheusConfig> {
  const jobs = await Promise.all(
    config.scrape_configs.map(async (job) => {
      const sd = job.kubernetes_sd_configs;
      if (!sd) return job;
      if (sd.some((s) => s.role !== 'pod')) throw new Error(`${job.job_name}: only role pod is emulated`);
      const names = sd.flatMap((s) => s.namespaces?.names ?? []);
      const found = pods.filter((p) => names.length === 0 || names.includes(p.namespace));
      const file = path.join(dir, `${job.job_name}.json`);
      await writeFile(file, JSON.stringify(found.flatMap(podTargets)));
      const { kubernetes_sd_configs: _, ...rest } = job;
      return { ...rest, file_sd_configs: [{ files: [file] }] };
    }),
  );
  return { ...config, scrape_configs: jobs };
}
