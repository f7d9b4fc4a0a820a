//! Server-side printing: `meta.k8s.io/v1 Table` responses, the columns
//! `kubectl get` shows (as a real API server computes them).
//!
//! Mirrors kubernetes pkg/printers/internalversion: the server always prints
//! the wide columns (priority 1) and kubectl hides them unless `-o wide`.

use crate::registry::ResourceType;
use serde_json::{Map, Value, json};

/// What each row carries in `object` (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    None,
    #[default]
    Metadata,
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter (default Metadata).
    pub fn from_query(v: Option<&str>) -> Self {
        match v {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// Builds a Table for `objects` of type `rt`. `list_metadata` is the list's
/// metadata (resourceVersion, continue) copied into the Table.
pub fn to_table(
    rt: &ResourceType,
    objects: &[Value],
    list_metadata: Value,
    include: IncludeObject,
    now: jiff::Timestamp,
) -> Value {
    let printer = printer_for(rt);
    let p = Printer { now };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = Map::new();
            row.insert("cells".into(), Value::Array((printer.cells)(&p, o)));
            if rt.group.is_empty()
                && rt.kind == "Pod"
                && let Some(c) = pod_row_conditions(o)
            {
                row.insert("conditions".into(), c);
            }
            match include {
                IncludeObject::None => {}
                IncludeObject::Object => {
                    row.insert("object".into(), o.clone());
                }
                IncludeObject::Metadata => {
                    row.insert(
                        "object".into(),
                        json!({
                            "kind": "PartialObjectMetadata",
                            "apiVersion": "meta.k8s.io/v1",
                            "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
                        }),
                    );
                }
            }
            Value::Object(row)
        })
        .collect();
    let metadata = if list_metadata.is_object() {
        list_metadata
    } else {
        json!({})
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": printer.columns,
        "rows": rows,
    })
}

/// apimachinery `duration.HumanDuration`, on whole seconds (Go truncates the
/// same way: `int(d.Seconds())`).
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

// ---- column definitions ---------------------------------------------------

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

fn col(name: &str, kind: &str, priority: i64, description: &str) -> Value {
    json!({"name": name, "type": kind, "format": "", "description": description, "priority": priority})
}

fn name_col() -> Value {
    json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DESC, "priority": 0})
}

fn age_col() -> Value {
    col("Age", "string", 0, AGE_DESC)
}

fn created_at_col() -> Value {
    json!({"name": "Created At", "type": "date", "format": "", "description": AGE_DESC, "priority": 0})
}

type CellFn = fn(&Printer, &Value) -> Vec<Value>;

type Cells = Box<dyn Fn(&Printer, &Value) -> Vec<Value>>;

struct Columns {
    columns: Vec<Value>,
    cells: Cells,
}

fn fixed(columns: Vec<Value>, f: CellFn) -> Columns {
    Columns {
        columns,
        cells: Box::new(f),
    }
}

fn printer_for(rt: &ResourceType) -> Columns {
    if rt.custom {
        return custom_printer(rt);
    }
    let c = |n: &str, t: &str, d: &str| col(n, t, 0, d);
    let w = |n: &str, t: &str, d: &str| col(n, t, 1, d);
    let template_cols = || {
        vec![
            w(
                "Containers",
                "string",
                "Names of each container in the template.",
            ),
            w(
                "Images",
                "string",
                "Images referenced by each container in the template.",
            ),
            w(
                "Selector",
                "string",
                "A label query over pods that should match the replica count.",
            ),
        ]
    };
    let with = |mut head: Vec<Value>, tail: Vec<Value>| {
        head.insert(0, name_col());
        head.extend(tail);
        head
    };
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => fixed(
            with(
                vec![
                    c(
                        "Ready",
                        "string",
                        "The aggregate readiness state of this pod for accepting traffic.",
                    ),
                    c(
                        "Status",
                        "string",
                        "The aggregate status of the containers in this pod.",
                    ),
                    c(
                        "Restarts",
                        "string",
                        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
                    ),
                    age_col(),
                    w(
                        "IP",
                        "string",
                        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
                    ),
                    w(
                        "Node",
                        "string",
                        "NodeName indicates in which node this pod is scheduled.",
                    ),
                    w(
                        "Nominated Node",
                        "string",
                        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
                    ),
                    w(
                        "Readiness Gates",
                        "string",
                        "If specified, all readiness gates will be evaluated for pod readiness.",
                    ),
                ],
                vec![],
            ),
            Printer::pod,
        ),
        ("", "Node") => fixed(
            with(
                vec![
                    c("Status", "string", "The status of the node"),
                    c("Roles", "string", "The roles of the node"),
                    age_col(),
                    c("Version", "string", "Kubelet Version reported by the node."),
                    w(
                        "Internal-IP",
                        "string",
                        "List of addresses reachable to the node. Queried from cloud provider, if available.",
                    ),
                    w(
                        "External-IP",
                        "string",
                        "List of addresses reachable to the node. Queried from cloud provider, if available.",
                    ),
                    w(
                        "OS-Image",
                        "string",
                        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
                    ),
                    w(
                        "Kernel-Version",
                        "string",
                        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
                    ),
                    w(
                        "Container-Runtime",
                        "string",
                        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
                    ),
                ],
                vec![],
            ),
            Printer::node,
        ),
        ("apps", "Deployment") => fixed(
            with(
                vec![
                    c("Ready", "string", "Number of the pod with ready state"),
                    c(
                        "Up-to-date",
                        "integer",
                        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                    ),
                    c(
                        "Available",
                        "integer",
                        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                    ),
                    age_col(),
                ],
                template_cols(),
            ),
            Printer::deployment,
        ),
        ("apps", "ReplicaSet") | ("", "ReplicationController") => fixed(
            with(
                vec![
                    c(
                        "Desired",
                        "integer",
                        "Replicas is the number of desired replicas.",
                    ),
                    c(
                        "Current",
                        "integer",
                        "Replicas is the most recently observed number of replicas.",
                    ),
                    c(
                        "Ready",
                        "integer",
                        "The number of ready replicas for this replica set.",
                    ),
                    age_col(),
                ],
                template_cols(),
            ),
            Printer::replicaset,
        ),
        ("apps", "StatefulSet") => fixed(
            with(
                vec![
                    c("Ready", "string", "Number of the pod with ready state"),
                    age_col(),
                ],
                template_cols().into_iter().take(2).collect(),
            ),
            Printer::statefulset,
        ),
        ("apps", "DaemonSet") => fixed(
            with(
                vec![
                    c(
                        "Desired",
                        "integer",
                        "The total number of nodes that should be running the daemon pod.",
                    ),
                    c(
                        "Current",
                        "integer",
                        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
                    ),
                    c(
                        "Ready",
                        "integer",
                        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
                    ),
                    c(
                        "Up-to-date",
                        "integer",
                        "The total number of nodes that are running updated daemon pod",
                    ),
                    c(
                        "Available",
                        "integer",
                        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
                    ),
                    c(
                        "Node Selector",
                        "string",
                        "NodeSelector is a selector which must be true for the pod to fit on a node.",
                    ),
                    age_col(),
                ],
                template_cols(),
            ),
            Printer::daemonset,
        ),
        ("batch", "Job") => fixed(
            with(
                vec![
                    c("Status", "string", "Status of the job."),
                    c("Completions", "string", "The completion status of the job."),
                    c("Duration", "string", "Time required to complete the job."),
                    age_col(),
                ],
                template_cols(),
            ),
            Printer::job,
        ),
        ("batch", "CronJob") => fixed(
            with(
                vec![
                    c("Schedule", "string", "The schedule in Cron format."),
                    c(
                        "Timezone",
                        "string",
                        "The time zone name for the given schedule.",
                    ),
                    c(
                        "Suspend",
                        "boolean",
                        "This flag tells the controller to suspend subsequent executions.",
                    ),
                    c(
                        "Active",
                        "integer",
                        "A list of pointers to currently running jobs.",
                    ),
                    c(
                        "Last Schedule",
                        "string",
                        "Information when was the last time the job was successfully scheduled.",
                    ),
                    age_col(),
                ],
                template_cols(),
            ),
            Printer::cronjob,
        ),
        ("", "Service") => fixed(
            with(
                vec![
                    c(
                        "Type",
                        "string",
                        "type determines how the Service is exposed.",
                    ),
                    c(
                        "Cluster-IP",
                        "string",
                        "clusterIP is the IP address of the service.",
                    ),
                    c(
                        "External-IP",
                        "string",
                        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
                    ),
                    c(
                        "Port(s)",
                        "string",
                        "The list of ports that are exposed by this service.",
                    ),
                    age_col(),
                    w(
                        "Selector",
                        "string",
                        "Route service traffic to pods with label keys and values matching this selector.",
                    ),
                ],
                vec![],
            ),
            Printer::service,
        ),
        ("", "Endpoints") => fixed(
            with(
                vec![
                    c(
                        "Endpoints",
                        "string",
                        "The set of all endpoints is the union of all subsets.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::endpoints,
        ),
        ("discovery.k8s.io", "EndpointSlice") => fixed(
            with(
                vec![
                    c(
                        "AddressType",
                        "string",
                        "addressType specifies the type of address carried by this EndpointSlice.",
                    ),
                    c(
                        "Ports",
                        "string",
                        "ports specifies the list of network ports exposed by each endpoint in this slice.",
                    ),
                    c(
                        "Endpoints",
                        "string",
                        "endpoints is a list of unique endpoints in this slice.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::endpointslice,
        ),
        ("", "ConfigMap") => fixed(
            with(
                vec![
                    c("Data", "integer", "Number of keys in the ConfigMap."),
                    age_col(),
                ],
                vec![],
            ),
            Printer::configmap,
        ),
        ("admissionregistration.k8s.io", _) => fixed(
            with(
                vec![
                    c(
                        "Webhooks",
                        "integer",
                        "Webhooks indicates the number of webhooks in the configuration",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::webhook_configuration,
        ),
        ("", "Secret") => fixed(
            with(
                vec![
                    c(
                        "Type",
                        "string",
                        "Used to facilitate programmatic handling of secret data.",
                    ),
                    c("Data", "integer", "Number of keys in the Secret."),
                    age_col(),
                ],
                vec![],
            ),
            Printer::secret,
        ),
        ("", "ServiceAccount") => fixed(
            with(
                vec![
                    c(
                        "Secrets",
                        "integer",
                        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::serviceaccount,
        ),
        ("", "PersistentVolumeClaim") => fixed(
            with(
                vec![
                    c(
                        "Status",
                        "string",
                        "phase represents the current phase of PersistentVolumeClaim.",
                    ),
                    c(
                        "Volume",
                        "string",
                        "volumeName is the binding reference to the PersistentVolume backing this claim.",
                    ),
                    c(
                        "Capacity",
                        "string",
                        "capacity represents the actual resources of the underlying volume.",
                    ),
                    c(
                        "Access Modes",
                        "string",
                        "accessModes contains the actual access modes the volume backing the PVC has.",
                    ),
                    c(
                        "StorageClass",
                        "string",
                        "storageClassName is the name of the StorageClass required by the claim.",
                    ),
                    c(
                        "VolumeAttributesClass",
                        "string",
                        "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.",
                    ),
                    age_col(),
                    w(
                        "VolumeMode",
                        "string",
                        "volumeMode defines what type of volume is required by the claim.",
                    ),
                ],
                vec![],
            ),
            Printer::pvc,
        ),
        ("", "PersistentVolume") => fixed(
            with(
                vec![
                    c(
                        "Capacity",
                        "string",
                        "capacity is the description of the persistent volume's resources and capacity.",
                    ),
                    c(
                        "Access Modes",
                        "string",
                        "accessModes contains all ways the volume can be mounted.",
                    ),
                    c(
                        "Reclaim Policy",
                        "string",
                        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
                    ),
                    c(
                        "Status",
                        "string",
                        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
                    ),
                    c(
                        "Claim",
                        "string",
                        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
                    ),
                    c(
                        "StorageClass",
                        "string",
                        "storageClassName is the name of StorageClass to which this persistent volume belongs.",
                    ),
                    c(
                        "VolumeAttributesClass",
                        "string",
                        "Name of VolumeAttributesClass to which this persistent volume belongs.",
                    ),
                    c(
                        "Reason",
                        "string",
                        "reason is a brief CamelCase string that describes any failure.",
                    ),
                    age_col(),
                    w(
                        "VolumeMode",
                        "string",
                        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
                    ),
                ],
                vec![],
            ),
            Printer::pv,
        ),
        ("", "Namespace") => fixed(
            with(
                vec![
                    c("Status", "string", "The status of the namespace"),
                    age_col(),
                ],
                vec![],
            ),
            Printer::namespace,
        ),
        ("", "Event") | ("events.k8s.io", "Event") => fixed(
            vec![
                c(
                    "Last Seen",
                    "string",
                    "The time at which the most recent occurrence of this event was recorded.",
                ),
                c(
                    "Type",
                    "string",
                    "Type of this event (Normal, Warning), new types could be added in the future",
                ),
                c(
                    "Reason",
                    "string",
                    "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
                ),
                c("Object", "string", "The object that this event is about."),
                w(
                    "Subobject",
                    "string",
                    "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
                ),
                w(
                    "Source",
                    "string",
                    "The component reporting this event. Should be a short machine understandable string.",
                ),
                c(
                    "Message",
                    "string",
                    "A human-readable description of the status of this operation.",
                ),
                w(
                    "First Seen",
                    "string",
                    "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
                ),
                w(
                    "Count",
                    "string",
                    "The number of times this event has occurred.",
                ),
                json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DESC, "priority": 1}),
            ],
            Printer::event,
        ),
        ("autoscaling", "HorizontalPodAutoscaler") => fixed(
            with(
                vec![
                    c("Reference", "string", "Reference to target resource"),
                    c("Targets", "string", "Current and target metrics"),
                    c(
                        "MinPods",
                        "string",
                        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
                    ),
                    c(
                        "MaxPods",
                        "integer",
                        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
                    ),
                    c(
                        "Replicas",
                        "integer",
                        "currentReplicas is current number of replicas of pods managed by this autoscaler.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::hpa,
        ),
        ("policy", "PodDisruptionBudget") => fixed(
            with(
                vec![
                    c(
                        "Min Available",
                        "string",
                        "The minimum number of pods that must be available.",
                    ),
                    c(
                        "Max Unavailable",
                        "string",
                        "The maximum number of pods that may be unavailable.",
                    ),
                    c(
                        "Allowed Disruptions",
                        "integer",
                        "Calculated number of pods that may be disrupted at this time.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::pdb,
        ),
        ("networking.k8s.io", "Ingress") => fixed(
            with(
                vec![
                    c(
                        "Class",
                        "string",
                        "The name of the IngressClass resource that should be used.",
                    ),
                    c(
                        "Hosts",
                        "string",
                        "Hosts that incoming requests are matched against before the ingress rule",
                    ),
                    c(
                        "Address",
                        "string",
                        "Address is a list containing ingress points for the load-balancer",
                    ),
                    c("Ports", "string", "Ports of TLS configurations that open"),
                    age_col(),
                ],
                vec![],
            ),
            Printer::ingress,
        ),
        ("storage.k8s.io", "StorageClass") => fixed(
            with(
                vec![
                    c(
                        "Provisioner",
                        "string",
                        "provisioner indicates the type of the provisioner.",
                    ),
                    c(
                        "ReclaimPolicy",
                        "string",
                        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
                    ),
                    c(
                        "VolumeBindingMode",
                        "string",
                        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
                    ),
                    c(
                        "AllowVolumeExpansion",
                        "string",
                        "allowVolumeExpansion shows whether the storage class allow volume expand.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::storageclass,
        ),
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => fixed(
            with(
                vec![
                    c(
                        "Role",
                        "string",
                        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
                    ),
                    age_col(),
                    w("Users", "string", "Users in the roleBinding"),
                    w("Groups", "string", "Groups in the roleBinding"),
                    w(
                        "ServiceAccounts",
                        "string",
                        "ServiceAccounts in the roleBinding",
                    ),
                ],
                vec![],
            ),
            Printer::rolebinding,
        ),
        ("coordination.k8s.io", "Lease") => fixed(
            with(
                vec![
                    c(
                        "Holder",
                        "string",
                        "HolderIdentity contains the identity of the holder of a current lease.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::lease,
        ),
        ("scheduling.k8s.io", "PriorityClass") => fixed(
            with(
                vec![
                    c("Value", "integer", "The value of this priority class."),
                    c(
                        "Global-Default",
                        "boolean",
                        "globalDefault specifies whether this PriorityClass should be considered as the default priority.",
                    ),
                    age_col(),
                    c(
                        "PreemptionPolicy",
                        "string",
                        "PreemptionPolicy is the Policy for preempting pods with lower priority.",
                    ),
                ],
                vec![],
            ),
            Printer::priorityclass,
        ),
        ("apps", "ControllerRevision") => fixed(
            with(
                vec![
                    c("Controller", "string", "Controller of the object"),
                    c(
                        "Revision",
                        "integer",
                        "Revision indicates the revision of the state represented by Data.",
                    ),
                    age_col(),
                ],
                vec![],
            ),
            Printer::controllerrevision,
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition")
        | ("rbac.authorization.k8s.io", "Role")
        | ("rbac.authorization.k8s.io", "ClusterRole")
        | ("", "LimitRange") => fixed(vec![name_col(), created_at_col()], Printer::created_at),
        _ => fixed(vec![name_col(), age_col()], Printer::name_age),
    }
}

/// Custom resources: Name plus the CRD's additionalPrinterColumns (or Age
/// when it declares none), like apiextensions-apiserver's table convertor.
fn custom_printer(rt: &ResourceType) -> Columns {
    let mut specs: Vec<(Value, Vec<Step>)> = Vec::new();
    let declared: Vec<Value> = if rt.printer_columns.is_empty() {
        vec![json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})]
    } else {
        rt.printer_columns.clone()
    };
    for c in &declared {
        let path = c.get("jsonPath").and_then(Value::as_str).unwrap_or("");
        let def = json!({
            "name": c.get("name").and_then(Value::as_str).unwrap_or(""),
            "type": c.get("type").and_then(Value::as_str).unwrap_or("string"),
            "format": c.get("format").and_then(Value::as_str).unwrap_or(""),
            "description": c.get("description").and_then(Value::as_str).map(str::to_string)
                .unwrap_or_else(|| format!("Custom resource definition column (in JSONPath format): {path}")),
            "priority": c.get("priority").and_then(Value::as_i64).unwrap_or(0),
        });
        specs.push((def, parse_json_path(path)));
    }
    let mut columns = vec![name_col()];
    columns.extend(specs.iter().map(|(d, _)| d.clone()));
    Columns {
        columns,
        cells: Box::new(move |p: &Printer, o: &Value| {
            let mut cells = vec![json!(name(o))];
            for (def, steps) in &specs {
                let kind = def["type"].as_str().unwrap_or("string");
                cells.push(match eval_json_path(o, steps) {
                    Some(v) => p.typed_cell(kind, v),
                    None => Value::Null,
                });
            }
            cells
        }),
    }
}

// ---- a JSONPath subset for additionalPrinterColumns ------------------------

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    Filter(String, String),
}

/// Parses `.a.b`, `.a[0].b`, `.a[*].b`, `.a[?(@.type=="Ready")].status`
/// (optionally wrapped in `{}`).
fn parse_json_path(path: &str) -> Vec<Step> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut steps = Vec::new();
    let chars: Vec<char> = path.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let field: String = chars[start..i].iter().collect();
                if !field.is_empty() {
                    steps.push(Step::Field(field));
                }
            }
            '[' => {
                let start = i + 1;
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '[' => depth += 1,
                        ']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                let inner: String = chars[start..i.min(chars.len())].iter().collect();
                i += 1;
                let inner = inner.trim();
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Ok(n) = inner.parse::<usize>() {
                    steps.push(Step::Index(n));
                } else if let Some(f) = inner.strip_prefix("?(").and_then(|s| s.strip_suffix(')')) {
                    if let Some((lhs, rhs)) = f.split_once("==") {
                        let key = lhs.trim().trim_start_matches('@').trim_start_matches('.');
                        let val = rhs.trim().trim_matches(|c| c == '"' || c == '\'');
                        steps.push(Step::Filter(key.to_string(), val.to_string()));
                    }
                } else {
                    let key = inner.trim_matches(|c| c == '"' || c == '\'');
                    steps.push(Step::Field(key.to_string()));
                }
            }
            _ => {
                // A bare leading field name (`metadata.name`): treat like `.metadata`.
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                steps.push(Step::Field(chars[start..i].iter().collect()));
            }
        }
    }
    steps
}

/// The first result of `steps` on `v`, as the CRD table convertor uses.
fn eval_json_path<'a>(v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(v);
    };
    match step {
        Step::Field(f) => eval_json_path(v.get(f)?, rest),
        Step::Index(n) => eval_json_path(v.get(*n)?, rest),
        Step::All => v.as_array()?.iter().find_map(|x| eval_json_path(x, rest)),
        Step::Filter(key, want) => v.as_array()?.iter().find_map(|x| {
            let got = x.pointer(&format!("/{}", key.replace('.', "/")))?;
            let matches = match got {
                Value::String(s) => s == want,
                Value::Number(n) => n.as_f64() == want.parse::<f64>().ok(),
                Value::Bool(b) => want.parse::<bool>().ok() == Some(*b),
                _ => false,
            };
            if matches {
                eval_json_path(x, rest)
            } else {
                None
            }
        }),
    }
}

// ---- value helpers ----------------------------------------------------------

fn at<'a>(v: &'a Value, ptr: &str) -> Option<&'a Value> {
    v.pointer(ptr).filter(|x| !x.is_null())
}

fn st<'a>(v: &'a Value, ptr: &str) -> &'a str {
    at(v, ptr).and_then(Value::as_str).unwrap_or("")
}

fn int(v: &Value, ptr: &str) -> i64 {
    at(v, ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    at(v, ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn name(o: &Value) -> &str {
    st(o, "/metadata/name")
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

/// `int-or-string` as Go's IntOrString.String() prints it.
fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

/// `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
fn format_labels(v: Option<&Value>) -> String {
    let mut pairs: Vec<String> = v
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    or_none(pairs.join(","))
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key.
fn format_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else { return String::new() };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for e in arr(sel, "/matchExpressions") {
        let key = st(e, "/key").to_string();
        let mut values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        values.sort();
        let text = match st(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        reqs.push((key, text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

fn container_cells(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| st(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| st(c, "/image")).collect();
    (names.join(","), images.join(","))
}

fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|x| x.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| has(m))
    .map(|(_, s)| *s)
    .collect::<Vec<_>>()
    .join(",")
}

fn list_with_more(list: Vec<String>, count: usize, max: usize, empty: &str) -> String {
    let ret = list.join(",");
    if count > max {
        return format!("{ret} + {} more...", count - max);
    }
    if ret.is_empty() {
        empty.to_string()
    } else {
        ret
    }
}

fn pod_row_conditions(o: &Value) -> Option<Value> {
    let (reason, message) = match st(o, "/status/phase") {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

// ---- printers ---------------------------------------------------------------

struct Printer {
    now: jiff::Timestamp,
}

impl Printer {
    /// `translateTimestampSince`: `<unknown>` for a missing time.
    fn since(&self, ts: &str) -> String {
        match parse_time(ts) {
            Some(t) => human_duration(self.now.duration_since(t).as_secs()),
            None => "<unknown>".into(),
        }
    }

    fn age(&self, o: &Value) -> Value {
        json!(self.since(st(o, "/metadata/creationTimestamp")))
    }

    fn typed_cell(&self, kind: &str, v: &Value) -> Value {
        match kind {
            "integer" => match v {
                Value::Number(n) => n
                    .as_i64()
                    .map(Value::from)
                    .or_else(|| n.as_f64().map(|f| json!(f as i64)))
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            },
            "number" => v.as_f64().map(Value::from).unwrap_or(Value::Null),
            "boolean" => v.as_bool().map(Value::from).unwrap_or(Value::Null),
            "date" => match v.as_str() {
                Some(s) => match parse_time(s) {
                    Some(_) => json!(self.since(s)),
                    None => json!("<invalid>"),
                },
                None => Value::Null,
            },
            _ => match v {
                Value::String(s) => json!(s),
                Value::Null => Value::Null,
                other => json!(other.to_string()),
            },
        }
    }

    fn name_age(&self, o: &Value) -> Vec<Value> {
        vec![json!(name(o)), self.age(o)]
    }

    fn created_at(&self, o: &Value) -> Vec<Value> {
        let created = parse_time(st(o, "/metadata/creationTimestamp"))
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        vec![
            json!(name(o)),
            created.map(Value::from).unwrap_or(Value::Null),
        ]
    }

    fn pod(&self, o: &Value) -> Vec<Value> {
        let spec_containers = arr(o, "/spec/containers");
        let init_specs = arr(o, "/spec/initContainers");
        let restartable = |cname: &str| {
            init_specs
                .iter()
                .any(|c| st(c, "/name") == cname && st(c, "/restartPolicy") == "Always")
        };
        let mut total = spec_containers.len();
        total += init_specs
            .iter()
            .filter(|c| st(c, "/restartPolicy") == "Always")
            .count();
        let mut ready = 0;
        let mut restarts: i64 = 0;
        let mut sidecar_restarts: i64 = 0;
        let mut last_restart: Option<jiff::Timestamp> = None;
        let mut last_sidecar_restart: Option<jiff::Timestamp> = None;
        let later = |cur: Option<jiff::Timestamp>, c: &Value| {
            let t = parse_time(st(c, "/lastState/terminated/finishedAt"));
            match (cur, t) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
        };
        let conditions = arr(o, "/status/conditions");
        let condition_true = |t: &str| {
            conditions
                .iter()
                .any(|c| st(c, "/type") == t && st(c, "/status") == "True")
        };

        let phase = st(o, "/status/phase");
        let mut reason = phase.to_string();
        let status_reason = st(o, "/status/reason");
        if !status_reason.is_empty() {
            reason = status_reason.to_string();
        }
        if conditions
            .iter()
            .any(|c| st(c, "/type") == "PodScheduled" && st(c, "/reason") == "SchedulingGated")
        {
            reason = "SchedulingGated".into();
        }

        let mut initializing = false;
        let init_statuses = arr(o, "/status/initContainerStatuses");
        for (i, c) in init_statuses.iter().enumerate() {
            let cname = st(c, "/name");
            restarts += int(c, "/restartCount");
            last_restart = later(last_restart, c);
            if restartable(cname) {
                sidecar_restarts += int(c, "/restartCount");
                last_sidecar_restart = later(last_sidecar_restart, c);
            }
            let terminated = at(c, "/state/terminated");
            let waiting_reason = st(c, "/state/waiting/reason");
            if terminated.is_some() && int(c, "/state/terminated/exitCode") == 0 {
                continue;
            }
            if restartable(cname) && at(c, "/started").and_then(Value::as_bool) == Some(true) {
                if at(c, "/ready").and_then(Value::as_bool) == Some(true) {
                    ready += 1;
                }
                continue;
            }
            if let Some(t) = terminated {
                let r = st(t, "/reason");
                reason = if !r.is_empty() {
                    format!("Init:{r}")
                } else if int(t, "/signal") != 0 {
                    format!("Init:Signal:{}", int(t, "/signal"))
                } else {
                    format!("Init:ExitCode:{}", int(t, "/exitCode"))
                };
            } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
                reason = format!("Init:{waiting_reason}");
            } else {
                reason = format!("Init:{i}/{}", init_specs.len());
            }
            initializing = true;
            break;
        }

        if !initializing || condition_true("Initialized") {
            restarts = sidecar_restarts;
            last_restart = last_sidecar_restart;
            let mut has_running = false;
            for c in arr(o, "/status/containerStatuses").iter().rev() {
                restarts += int(c, "/restartCount");
                last_restart = later(last_restart, c);
                let waiting = st(c, "/state/waiting/reason");
                let terminated = at(c, "/state/terminated");
                if !waiting.is_empty() {
                    reason = waiting.to_string();
                } else if let Some(t) = terminated {
                    let r = st(t, "/reason");
                    reason = if !r.is_empty() {
                        r.to_string()
                    } else if int(t, "/signal") != 0 {
                        format!("Signal:{}", int(t, "/signal"))
                    } else {
                        format!("ExitCode:{}", int(t, "/exitCode"))
                    };
                } else if at(c, "/ready").and_then(Value::as_bool) == Some(true)
                    && at(c, "/state/running").is_some()
                {
                    has_running = true;
                    ready += 1;
                }
            }
            if reason == "Completed" && has_running {
                reason = if condition_true("Ready") {
                    "Running".into()
                } else {
                    "NotReady".into()
                };
            }
        }

        let deleting = at(o, "/metadata/deletionTimestamp").is_some();
        if deleting && status_reason == "NodeLost" {
            reason = "Unknown".into();
        } else if deleting && phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating".into();
        }

        let restarts_str = match last_restart {
            Some(t) if restarts != 0 => format!(
                "{restarts} ({} ago)",
                human_duration(self.now.duration_since(t).as_secs())
            ),
            _ => restarts.to_string(),
        };

        let ip = arr(o, "/status/podIPs")
            .first()
            .map(|x| st(x, "/ip"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| st(o, "/status/podIP"));
        let gates = arr(o, "/spec/readinessGates");
        let gates_str = if gates.is_empty() {
            "<none>".to_string()
        } else {
            let true_count = gates
                .iter()
                .filter(|g| {
                    let t = st(g, "/conditionType");
                    conditions
                        .iter()
                        .find(|c| st(c, "/type") == t)
                        .is_some_and(|c| st(c, "/status") == "True")
                })
                .count();
            format!("{true_count}/{}", gates.len())
        };
        vec![
            json!(name(o)),
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_str),
            self.age(o),
            json!(or_none(ip.to_string())),
            json!(or_none(st(o, "/spec/nodeName").to_string())),
            json!(or_none(st(o, "/status/nominatedNodeName").to_string())),
            json!(gates_str),
        ]
    }

    fn node(&self, o: &Value) -> Vec<Value> {
        let mut status: Vec<String> = Vec::new();
        if let Some(c) = arr(o, "/status/conditions")
            .iter()
            .find(|c| st(c, "/type") == "Ready")
        {
            status.push(if st(c, "/status") == "True" {
                "Ready".into()
            } else {
                "NotReady".into()
            });
        }
        if status.is_empty() {
            status.push("Unknown".into());
        }
        if at(o, "/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
            status.push("SchedulingDisabled".into());
        }
        let mut roles: Vec<String> = Vec::new();
        if let Some(labels) = at(o, "/metadata/labels").and_then(Value::as_object) {
            for (k, v) in labels {
                if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                    if !role.is_empty() {
                        roles.push(role.to_string());
                    }
                } else if k == "kubernetes.io/role"
                    && let Some(v) = v.as_str().filter(|v| !v.is_empty())
                {
                    roles.push(v.to_string());
                }
            }
        }
        roles.sort();
        roles.dedup();
        let address = |t: &str| {
            arr(o, "/status/addresses")
                .iter()
                .find(|a| st(a, "/type") == t)
                .map(|a| st(a, "/address").to_string())
                .unwrap_or_else(|| "<none>".into())
        };
        let unknown = |p: &str| {
            let s = st(o, p);
            if s.is_empty() {
                "<unknown>".to_string()
            } else {
                s.to_string()
            }
        };
        vec![
            json!(name(o)),
            json!(status.join(",")),
            json!(or_none(roles.join(","))),
            self.age(o),
            json!(st(o, "/status/nodeInfo/kubeletVersion")),
            json!(address("InternalIP")),
            json!(address("ExternalIP")),
            json!(unknown("/status/nodeInfo/osImage")),
            json!(unknown("/status/nodeInfo/kernelVersion")),
            json!(unknown("/status/nodeInfo/containerRuntimeVersion")),
        ]
    }

    fn template_cells(o: &Value, selector: String) -> [Value; 3] {
        let (names, images) = container_cells(arr(o, "/spec/template/spec/containers"));
        [json!(names), json!(images), json!(selector)]
    }

    fn replicas(o: &Value) -> i64 {
        at(o, "/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
    }

    fn deployment(&self, o: &Value) -> Vec<Value> {
        let mut cells = vec![
            json!(name(o)),
            json!(format!(
                "{}/{}",
                int(o, "/status/readyReplicas"),
                Self::replicas(o)
            )),
            json!(int(o, "/status/updatedReplicas")),
            json!(int(o, "/status/availableReplicas")),
            self.age(o),
        ];
        cells.extend(Self::template_cells(
            o,
            format_selector(at(o, "/spec/selector")),
        ));
        cells
    }

    fn replicaset(&self, o: &Value) -> Vec<Value> {
        let selector = match at(o, "/spec/selector") {
            // ReplicationController: a plain map selector.
            Some(s) if s.get("matchLabels").is_none() && s.get("matchExpressions").is_none() => {
                format_labels(Some(s))
            }
            s => format_selector(s),
        };
        let mut cells = vec![
            json!(name(o)),
            json!(Self::replicas(o)),
            json!(int(o, "/status/replicas")),
            json!(int(o, "/status/readyReplicas")),
            self.age(o),
        ];
        cells.extend(Self::template_cells(o, selector));
        cells
    }

    fn statefulset(&self, o: &Value) -> Vec<Value> {
        let [names, images, _] = Self::template_cells(o, String::new());
        vec![
            json!(name(o)),
            json!(format!(
                "{}/{}",
                int(o, "/status/readyReplicas"),
                Self::replicas(o)
            )),
            self.age(o),
            names,
            images,
        ]
    }

    fn daemonset(&self, o: &Value) -> Vec<Value> {
        let mut cells = vec![
            json!(name(o)),
            json!(int(o, "/status/desiredNumberScheduled")),
            json!(int(o, "/status/currentNumberScheduled")),
            json!(int(o, "/status/numberReady")),
            json!(int(o, "/status/updatedNumberScheduled")),
            json!(int(o, "/status/numberAvailable")),
            json!(format_labels(at(o, "/spec/template/spec/nodeSelector"))),
            self.age(o),
        ];
        cells.extend(Self::template_cells(
            o,
            format_selector(at(o, "/spec/selector")),
        ));
        cells
    }

    fn job(&self, o: &Value) -> Vec<Value> {
        let succeeded = int(o, "/status/succeeded");
        let completions = match at(o, "/spec/completions").and_then(Value::as_i64) {
            Some(c) => format!("{succeeded}/{c}"),
            None => {
                let parallelism = int(o, "/spec/parallelism");
                if at(o, "/spec/parallelism").is_none() {
                    // Both unset: the server defaults completions to 1.
                    format!("{succeeded}/1")
                } else if parallelism > 1 {
                    format!("{succeeded}/1 of {parallelism}")
                } else {
                    format!("{succeeded}/1")
                }
            }
        };
        let start = parse_time(st(o, "/status/startTime"));
        let end = parse_time(st(o, "/status/completionTime"));
        let duration = match (start, end) {
            (None, _) => String::new(),
            (Some(s), None) => human_duration(self.now.duration_since(s).as_secs()),
            (Some(s), Some(e)) => human_duration(e.duration_since(s).as_secs()),
        };
        let conditions = arr(o, "/status/conditions");
        let has = |t: &str| {
            conditions
                .iter()
                .any(|c| st(c, "/type") == t && st(c, "/status") == "True")
        };
        let status = if has("Complete") {
            "Complete"
        } else if has("Failed") {
            "Failed"
        } else if at(o, "/metadata/deletionTimestamp").is_some() {
            "Terminating"
        } else if has("Suspended") {
            "Suspended"
        } else if has("FailureTarget") {
            "FailureTarget"
        } else if has("SuccessCriteriaMet") {
            "SuccessCriteriaMet"
        } else {
            "Running"
        };
        let mut cells = vec![
            json!(name(o)),
            json!(status),
            json!(completions),
            json!(duration),
            self.age(o),
        ];
        cells.extend(Self::template_cells(
            o,
            format_selector(at(o, "/spec/selector")),
        ));
        cells
    }

    fn cronjob(&self, o: &Value) -> Vec<Value> {
        let last = match st(o, "/status/lastScheduleTime") {
            "" => "<none>".to_string(),
            t => self.since(t),
        };
        let tz = or_none(st(o, "/spec/timeZone").to_string());
        let suspend = at(o, "/spec/suspend")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let (names, images) =
            container_cells(arr(o, "/spec/jobTemplate/spec/template/spec/containers"));
        vec![
            json!(name(o)),
            json!(st(o, "/spec/schedule")),
            json!(tz),
            json!(suspend),
            json!(arr(o, "/status/active").len()),
            json!(last),
            self.age(o),
            json!(names),
            json!(images),
            json!(or_none(format_selector(at(
                o,
                "/spec/jobTemplate/spec/selector"
            )))),
        ]
    }

    fn service(&self, o: &Value) -> Vec<Value> {
        let svc_type = match st(o, "/spec/type") {
            "" => "ClusterIP",
            t => t,
        };
        let cluster_ip = arr(o, "/spec/clusterIPs")
            .first()
            .and_then(Value::as_str)
            .unwrap_or_else(|| st(o, "/spec/clusterIP"));
        let external_ips: Vec<String> = arr(o, "/spec/externalIPs")
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
        let external = match svc_type {
            "ClusterIP" | "NodePort" => or_none(external_ips.join(",")),
            "LoadBalancer" => {
                let mut all: Vec<String> = arr(o, "/status/loadBalancer/ingress")
                    .iter()
                    .filter_map(|i| {
                        let ip = st(i, "/ip");
                        let host = st(i, "/hostname");
                        if !ip.is_empty() {
                            Some(ip.to_string())
                        } else if !host.is_empty() {
                            Some(host.to_string())
                        } else {
                            None
                        }
                    })
                    .collect();
                all.extend(external_ips);
                if all.is_empty() {
                    "<pending>".into()
                } else {
                    all.join(",")
                }
            }
            "ExternalName" => st(o, "/spec/externalName").to_string(),
            _ => "<unknown>".into(),
        };
        let ports: Vec<String> = arr(o, "/spec/ports")
            .iter()
            .map(|p| {
                let proto = match st(p, "/protocol") {
                    "" => "TCP",
                    x => x,
                };
                let node_port = int(p, "/nodePort");
                if node_port > 0 {
                    format!("{}:{node_port}/{proto}", int(p, "/port"))
                } else {
                    format!("{}/{proto}", int(p, "/port"))
                }
            })
            .collect();
        vec![
            json!(name(o)),
            json!(svc_type),
            json!(or_none(cluster_ip.to_string())),
            json!(external),
            json!(or_none(ports.join(","))),
            self.age(o),
            json!(format_labels(at(o, "/spec/selector"))),
        ]
    }

    fn endpoints(&self, o: &Value) -> Vec<Value> {
        let subsets = arr(o, "/subsets");
        let text = if subsets.is_empty() {
            "<none>".to_string()
        } else {
            let max = 3;
            let mut list: Vec<String> = Vec::new();
            let mut count = 0;
            for ss in subsets {
                let addrs = arr(ss, "/addresses");
                let ports = arr(ss, "/ports");
                if ports.is_empty() {
                    count += addrs.len();
                    for a in addrs {
                        if list.len() < max {
                            list.push(st(a, "/ip").to_string());
                        }
                    }
                    continue;
                }
                for p in ports {
                    count += addrs.len();
                    for a in addrs {
                        if list.len() < max {
                            let ip = st(a, "/ip");
                            let port = int(p, "/port");
                            list.push(if ip.contains(':') {
                                format!("[{ip}]:{port}")
                            } else {
                                format!("{ip}:{port}")
                            });
                        }
                    }
                }
            }
            list_with_more(list, count, max, "")
        };
        vec![json!(name(o)), json!(text), self.age(o)]
    }

    fn endpointslice(&self, o: &Value) -> Vec<Value> {
        let max = 3;
        let ports = arr(o, "/ports");
        let port_list: Vec<String> = ports
            .iter()
            .take(max)
            .map(|p| match at(p, "/port") {
                Some(n) => n.to_string(),
                None => match st(p, "/name") {
                    "" => "*".to_string(),
                    n => n.to_string(),
                },
            })
            .collect();
        let addrs: Vec<String> = arr(o, "/endpoints")
            .iter()
            .flat_map(|e| arr(e, "/addresses").iter())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        let count = addrs.len();
        vec![
            json!(name(o)),
            json!(st(o, "/addressType")),
            json!(list_with_more(port_list, ports.len(), max, "<unset>")),
            json!(list_with_more(
                addrs.into_iter().take(max).collect(),
                count,
                max,
                "<unset>"
            )),
            self.age(o),
        ]
    }

    fn configmap(&self, o: &Value) -> Vec<Value> {
        let n = |p: &str| at(o, p).and_then(Value::as_object).map_or(0, Map::len);
        vec![
            json!(name(o)),
            json!(n("/data") + n("/binaryData")),
            self.age(o),
        ]
    }

    fn webhook_configuration(&self, o: &Value) -> Vec<Value> {
        let n = at(o, "/webhooks")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        vec![json!(name(o)), json!(n), self.age(o)]
    }

    fn secret(&self, o: &Value) -> Vec<Value> {
        let n = at(o, "/data")
            .and_then(Value::as_object)
            .map_or(0, Map::len);
        let t = match st(o, "/type") {
            "" => "Opaque",
            t => t,
        };
        vec![json!(name(o)), json!(t), json!(n), self.age(o)]
    }

    fn serviceaccount(&self, o: &Value) -> Vec<Value> {
        vec![json!(name(o)), json!(arr(o, "/secrets").len()), self.age(o)]
    }

    fn pvc(&self, o: &Value) -> Vec<Value> {
        let phase = if at(o, "/metadata/deletionTimestamp").is_some() {
            "Terminating"
        } else {
            st(o, "/status/phase")
        };
        let volume = st(o, "/spec/volumeName");
        let (capacity, modes) = if volume.is_empty() {
            (String::new(), String::new())
        } else {
            (
                st(o, "/status/capacity/storage").to_string(),
                access_modes(arr(o, "/status/accessModes")),
            )
        };
        let class = match st(o, "/spec/storageClassName") {
            "" => st(
                o,
                "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
            ),
            c => c,
        };
        let unset = |p: &str| match st(o, p) {
            "" => "<unset>".to_string(),
            v => v.to_string(),
        };
        vec![
            json!(name(o)),
            json!(phase),
            json!(volume),
            json!(capacity),
            json!(modes),
            json!(class),
            json!(unset("/spec/volumeAttributesClassName")),
            self.age(o),
            json!(unset("/spec/volumeMode")),
        ]
    }

    fn pv(&self, o: &Value) -> Vec<Value> {
        let claim = match at(o, "/spec/claimRef") {
            Some(c) => format!("{}/{}", st(c, "/namespace"), st(c, "/name")),
            None => String::new(),
        };
        let phase = if at(o, "/metadata/deletionTimestamp").is_some() {
            "Terminating"
        } else {
            st(o, "/status/phase")
        };
        let class = match st(o, "/spec/storageClassName") {
            "" => st(
                o,
                "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
            ),
            c => c,
        };
        let unset = |p: &str| match st(o, p) {
            "" => "<unset>".to_string(),
            v => v.to_string(),
        };
        vec![
            json!(name(o)),
            json!(st(o, "/spec/capacity/storage")),
            json!(access_modes(arr(o, "/spec/accessModes"))),
            json!(st(o, "/spec/persistentVolumeReclaimPolicy")),
            json!(phase),
            json!(claim),
            json!(class),
            json!(unset("/spec/volumeAttributesClassName")),
            json!(st(o, "/status/reason")),
            self.age(o),
            json!(unset("/spec/volumeMode")),
        ]
    }

    fn namespace(&self, o: &Value) -> Vec<Value> {
        let phase = match st(o, "/status/phase") {
            "" => "Active",
            p => p,
        };
        vec![json!(name(o)), json!(phase), self.age(o)]
    }

    /// core/v1 and events.k8s.io/v1 Events (the latter's fields renamed).
    fn event(&self, o: &Value) -> Vec<Value> {
        let pick = |a: &str, b: &str| match st(o, a) {
            "" => st(o, b),
            v => v,
        };
        let first_ts = pick("/firstTimestamp", "/deprecatedFirstTimestamp");
        let first = if parse_time(first_ts).is_some() {
            self.since(first_ts)
        } else {
            self.since(st(o, "/eventTime"))
        };
        let last_ts = pick("/lastTimestamp", "/deprecatedLastTimestamp");
        let mut last = if parse_time(last_ts).is_some() {
            self.since(last_ts)
        } else {
            first.clone()
        };
        let mut count = match at(o, "/count").or_else(|| at(o, "/deprecatedCount")) {
            Some(c) => c.as_i64().unwrap_or(0),
            None => 0,
        };
        if let Some(series) = at(o, "/series") {
            last = self.since(st(series, "/lastObservedTime"));
            count = int(series, "/count");
        } else if count == 0 {
            count = 1;
        }
        let involved = at(o, "/involvedObject")
            .or_else(|| at(o, "/regarding"))
            .cloned()
            .unwrap_or(Value::Null);
        let kind = st(&involved, "/kind").to_lowercase();
        let target = match st(&involved, "/name") {
            "" => kind,
            n => format!("{kind}/{n}"),
        };
        let component = pick("/source/component", "/deprecatedSource/component");
        let component = if component.is_empty() {
            st(o, "/reportingController")
        } else {
            component
        };
        let host = pick("/source/host", "/deprecatedSource/host");
        let host = if host.is_empty() {
            st(o, "/reportingInstance")
        } else {
            host
        };
        let source = if host.is_empty() {
            component.to_string()
        } else {
            format!("{component}, {host}")
        };
        vec![
            json!(last),
            json!(st(o, "/type")),
            json!(st(o, "/reason")),
            json!(target),
            json!(st(&involved, "/fieldPath")),
            json!(source),
            json!(pick("/message", "/note").trim()),
            json!(first),
            json!(count),
            json!(name(o)),
        ]
    }

    fn hpa(&self, o: &Value) -> Vec<Value> {
        let reference = format!(
            "{}/{}",
            st(o, "/spec/scaleTargetRef/kind"),
            st(o, "/spec/scaleTargetRef/name")
        );
        let min = match at(o, "/spec/minReplicas").and_then(Value::as_i64) {
            Some(m) => m.to_string(),
            None => "<unset>".to_string(),
        };
        vec![
            json!(name(o)),
            json!(reference),
            json!(hpa_targets(o)),
            json!(min),
            json!(int(o, "/spec/maxReplicas")),
            json!(int(o, "/status/currentReplicas")),
            self.age(o),
        ]
    }

    fn pdb(&self, o: &Value) -> Vec<Value> {
        let f = |p: &str| at(o, p).map(int_or_string).unwrap_or_else(|| "N/A".into());
        vec![
            json!(name(o)),
            json!(f("/spec/minAvailable")),
            json!(f("/spec/maxUnavailable")),
            json!(int(o, "/status/disruptionsAllowed")),
            self.age(o),
        ]
    }

    fn ingress(&self, o: &Value) -> Vec<Value> {
        let class = or_none(st(o, "/spec/ingressClassName").to_string());
        let rules = arr(o, "/spec/rules");
        let max = 3;
        let hosts: Vec<String> = rules
            .iter()
            .take(max)
            .map(|r| st(r, "/host").to_string())
            .filter(|h| !h.is_empty())
            .collect();
        let hosts = if hosts.is_empty() {
            "*".to_string()
        } else if rules.len() > max {
            format!("{} + {} more...", hosts.join(","), rules.len() - max)
        } else {
            hosts.join(",")
        };
        let address: Vec<String> = arr(o, "/status/loadBalancer/ingress")
            .iter()
            .map(|i| match st(i, "/ip") {
                "" => st(i, "/hostname").to_string(),
                ip => ip.to_string(),
            })
            .filter(|s| !s.is_empty())
            .collect();
        let ports = if arr(o, "/spec/tls").is_empty() {
            "80"
        } else {
            "80, 443"
        };
        vec![
            json!(name(o)),
            json!(class),
            json!(hosts),
            json!(address.join(",")),
            json!(ports),
            self.age(o),
        ]
    }

    fn storageclass(&self, o: &Value) -> Vec<Value> {
        let default = [
            "storageclass.kubernetes.io~1is-default-class",
            "storageclass.beta.kubernetes.io~1is-default-class",
        ]
        .iter()
        .any(|a| st(o, &format!("/metadata/annotations/{a}")) == "true");
        let n = if default {
            format!("{} (default)", name(o))
        } else {
            name(o).to_string()
        };
        let or = |p: &str, d: &'static str| match st(o, p) {
            "" => d.to_string(),
            v => v.to_string(),
        };
        vec![
            json!(n),
            json!(st(o, "/provisioner")),
            json!(or("/reclaimPolicy", "Delete")),
            json!(or("/volumeBindingMode", "Immediate")),
            json!(
                at(o, "/allowVolumeExpansion")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            ),
            self.age(o),
        ]
    }

    fn rolebinding(&self, o: &Value) -> Vec<Value> {
        let subjects = arr(o, "/subjects");
        let of = |kind: &str| {
            subjects
                .iter()
                .filter(|s| st(s, "/kind") == kind)
                .map(|s| {
                    if kind == "ServiceAccount" {
                        format!("{}/{}", st(s, "/namespace"), st(s, "/name"))
                    } else {
                        st(s, "/name").to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            json!(name(o)),
            json!(format!(
                "{}/{}",
                st(o, "/roleRef/kind"),
                st(o, "/roleRef/name")
            )),
            self.age(o),
            json!(of("User")),
            json!(of("Group")),
            json!(of("ServiceAccount")),
        ]
    }

    fn lease(&self, o: &Value) -> Vec<Value> {
        vec![
            json!(name(o)),
            json!(st(o, "/spec/holderIdentity")),
            self.age(o),
        ]
    }

    fn priorityclass(&self, o: &Value) -> Vec<Value> {
        vec![
            json!(name(o)),
            json!(int(o, "/value")),
            json!(
                at(o, "/globalDefault")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            ),
            self.age(o),
            json!(match st(o, "/preemptionPolicy") {
                "" => "PreemptLowerPriority",
                p => p,
            }),
        ]
    }

    fn controllerrevision(&self, o: &Value) -> Vec<Value> {
        let controller = arr(o, "/metadata/ownerReferences")
            .iter()
            .find(|r| at(r, "/controller").and_then(Value::as_bool) == Some(true))
            .map(|r| {
                let (group, _) = crate::registry::split_api_version(st(r, "/apiVersion"));
                let kind = st(r, "/kind").to_lowercase();
                let gk = if group.is_empty() {
                    kind
                } else {
                    format!("{kind}.{group}")
                };
                format!("{gk}/{}", st(r, "/name"))
            })
            .unwrap_or_else(|| "<none>".into());
        vec![
            json!(name(o)),
            json!(controller),
            json!(int(o, "/revision")),
            self.age(o),
        ]
    }
}

/// The HPA `Targets` column (`formatHPAMetrics`); autoscaling/v1 objects are
/// read through their `targetCPUUtilizationPercentage`.
fn hpa_targets(o: &Value) -> String {
    let mut specs: Vec<Value> = arr(o, "/spec/metrics").to_vec();
    let mut statuses: Vec<Value> = arr(o, "/status/currentMetrics").to_vec();
    if let Some(t) = at(o, "/spec/targetCPUUtilizationPercentage") {
        specs = vec![
            json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": t}}}),
        ];
        statuses = match at(o, "/status/currentCPUUtilizationPercentage") {
            Some(c) => vec![
                json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": c}}}),
            ],
            None => vec![],
        };
    }
    if specs.is_empty() {
        return "<none>".into();
    }
    let q = |v: Option<&Value>| v.map(int_or_string).unwrap_or_default();
    let mut list: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let cur = |p: &str| status.and_then(|s| at(s, p)).map(int_or_string);
        let entry = match st(spec, "/type") {
            "External" | "Object" => {
                let key = if st(spec, "/type") == "External" {
                    "external"
                } else {
                    "object"
                };
                if let Some(avg) = at(spec, &format!("/{key}/target/averageValue")) {
                    let c = cur(&format!("/{key}/current/averageValue"))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{c}/{} (avg)", int_or_string(avg))
                } else {
                    let c =
                        cur(&format!("/{key}/current/value")).unwrap_or_else(|| "<unknown>".into());
                    format!("{c}/{}", q(at(spec, &format!("/{key}/target/value"))))
                }
            }
            "Pods" => {
                let c = cur("/pods/current/averageValue").unwrap_or_else(|| "<unknown>".into());
                format!("{c}/{}", q(at(spec, "/pods/target/averageValue")))
            }
            t @ ("Resource" | "ContainerResource") => {
                let key = if t == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let rname = st(spec, &format!("/{key}/name"));
                if let Some(avg) = at(spec, &format!("/{key}/target/averageValue")) {
                    let c = cur(&format!("/{key}/current/averageValue"))
                        .unwrap_or_else(|| "<unknown>".into());
                    format!("{rname}: {c}/{}", int_or_string(avg))
                } else {
                    let c = cur(&format!("/{key}/current/averageUtilization"))
                        .map(|c| format!("{c}%"))
                        .unwrap_or_else(|| "<unknown>".into());
                    let target = at(spec, &format!("/{key}/target/averageUtilization"))
                        .map(|t| format!("{}%", int_or_string(t)))
                        .unwrap_or_else(|| "<auto>".into());
                    format!("{rname}: {c}/{target}")
                }
            }
            _ => "<unknown type>".into(),
        };
        list.push(entry);
    }
    let max = 2;
    let count = list.len();
    if count > max {
        list.truncate(max);
        return format!("{} + {} more...", list.join(", "), count - max);
    }
    list.join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn now() -> jiff::Timestamp {
        "2025-01-10T12:00:00Z".parse().unwrap()
    }

    fn table(group: &str, version: &str, plural: &str, objects: &[Value]) -> Value {
        let r = Registry::builtin();
        let rt = r.by_plural(group, version, plural).unwrap();
        to_table(
            rt,
            objects,
            json!({"resourceVersion": "7"}),
            IncludeObject::Metadata,
            now(),
        )
    }

    fn cells(t: &Value, row: usize) -> Vec<Value> {
        t["rows"][row]["cells"].as_array().unwrap().clone()
    }

    fn headers(t: &Value, priority: i64) -> Vec<String> {
        t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["priority"] == priority)
            .map(|c| c["name"].as_str().unwrap().to_uppercase())
            .collect()
    }

    fn pod(status: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "default", "creationTimestamp": "2025-01-10T11:55:00Z"},
               "spec": {"containers": [{"name": "app", "image": "nginx"}], "nodeName": "node-1"},
               "status": status})
    }

    #[test]
    fn human_duration_matches_apimachinery() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (45, "45s"),
            (119, "119s"),
            (120, "2m"),
            (5 * 60, "5m"),
            (5 * 60 + 7, "5m7s"),
            (10 * 60 + 7, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 12 * 60, "3h12m"),
            (8 * 3600 + 12 * 60, "8h"),
            (47 * 3600, "47h"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (3 * 86400, "3d"),
            (10 * 86400, "10d"),
            (400 * 86400, "400d"),
            (2 * 365 * 86400, "2y"),
            (3 * 365 * 86400 + 10 * 86400, "3y10d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }

    #[test]
    fn pod_crashloop_with_restarts_ago() {
        let p = pod(
            json!({"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 5,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-01-10T11:58:00Z"}}}]}),
        );
        let t = table("", "v1", "pods", &[p]);
        assert_eq!(
            headers(&t, 0),
            ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        );
        assert_eq!(
            headers(&t, 1),
            ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
        );
        assert_eq!(
            cells(&t, 0),
            json!([
                "p",
                "0/1",
                "CrashLoopBackOff",
                "5 (2m ago)",
                "5m",
                "10.0.0.5",
                "node-1",
                "<none>",
                "<none>"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn pod_statuses() {
        let status = |s: Value| cells(&table("", "v1", "pods", &[pod(s)]), 0)[2].clone();
        let running = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]});
        assert_eq!(status(running.clone()), "Running");
        assert_eq!(
            cells(&table("", "v1", "pods", &[pod(running)]), 0)[1],
            "1/1"
        );
        assert_eq!(
            status(
                json!({"phase": "Pending", "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]})
            ),
            "ImagePullBackOff"
        );
        assert_eq!(
            status(
                json!({"phase": "Pending", "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "CreateContainerConfigError"}}}]})
            ),
            "CreateContainerConfigError"
        );
        assert_eq!(
            status(
                json!({"phase": "Succeeded", "containerStatuses": [{"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})
            ),
            "Completed"
        );
        assert_eq!(
            status(
                json!({"phase": "Failed", "containerStatuses": [{"name": "app", "state": {"terminated": {"exitCode": 137}}}]})
            ),
            "ExitCode:137"
        );
        assert_eq!(
            status(json!({"phase": "Failed", "reason": "Evicted"})),
            "Evicted"
        );
        let mut init = pod(json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "a", "state": {"terminated": {"exitCode": 0}}},
            {"name": "b", "state": {"running": {}}}]}));
        init["spec"]["initContainers"] = json!([{"name": "a"}, {"name": "b"}]);
        assert_eq!(
            cells(&table("", "v1", "pods", &[init.clone()]), 0)[2],
            "Init:1/2"
        );
        init["status"]["initContainerStatuses"][1]["state"] =
            json!({"waiting": {"reason": "CrashLoopBackOff"}});
        assert_eq!(
            cells(&table("", "v1", "pods", &[init]), 0)[2],
            "Init:CrashLoopBackOff"
        );
        let mut deleting = pod(json!({"phase": "Running"}));
        deleting["metadata"]["deletionTimestamp"] = json!("2025-01-10T11:59:00Z");
        assert_eq!(
            cells(&table("", "v1", "pods", &[deleting.clone()]), 0)[2],
            "Terminating"
        );
        deleting["status"]["reason"] = json!("NodeLost");
        assert_eq!(
            cells(&table("", "v1", "pods", &[deleting]), 0)[2],
            "Unknown"
        );
        let failed = table("", "v1", "pods", &[pod(json!({"phase": "Failed"}))]);
        assert_eq!(failed["rows"][0]["conditions"][0]["reason"], "Failed");
    }

    #[test]
    fn include_object_modes() {
        let r = Registry::builtin();
        let rt = r.by_plural("", "v1", "configmaps").unwrap();
        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let full = to_table(
            rt,
            std::slice::from_ref(&cm),
            json!({}),
            IncludeObject::Object,
            now(),
        );
        assert_eq!(full["rows"][0]["object"], cm);
        assert_eq!(full["rows"][0]["cells"][1], 2);
        let none = to_table(rt, &[cm], json!({}), IncludeObject::None, now());
        assert!(none["rows"][0].get("object").is_none());
        assert_eq!(
            IncludeObject::from_query(Some("Object")),
            IncludeObject::Object
        );
        assert_eq!(IncludeObject::from_query(None), IncludeObject::Metadata);
    }

    #[test]
    fn nodes() {
        let n = json!({"metadata": {"name": "n1", "creationTimestamp": "2025-01-08T09:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Ubuntu"}}});
        let t = table("", "v1", "nodes", &[n]);
        let c = cells(&t, 0);
        assert_eq!(
            c[..5],
            json!([
                "n1",
                "Ready,SchedulingDisabled",
                "control-plane,worker",
                "2d3h",
                "v1.33.0"
            ])
            .as_array()
            .unwrap()[..]
        );
        assert_eq!(
            c[5..],
            json!(["10.0.0.1", "<none>", "Ubuntu", "<unknown>", "<unknown>"])
                .as_array()
                .unwrap()[..]
        );
        let t = table(
            "",
            "v1",
            "nodes",
            &[
                json!({"metadata": {"name": "n2"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}),
            ],
        );
        assert_eq!(cells(&t, 0)[1], "NotReady");
        assert_eq!(cells(&t, 0)[2], "<none>");
        assert_eq!(cells(&t, 0)[3], "<unknown>");
    }

    #[test]
    fn workloads() {
        let d = json!({"metadata": {"name": "web", "creationTimestamp": "2025-01-10T11:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "fe"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]},
                "template": {"spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        let t = table("apps", "v1", "deployments", &[d]);
        assert_eq!(
            headers(&t, 0),
            ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        );
        assert_eq!(
            cells(&t, 0),
            json!([
                "web",
                "2/3",
                3,
                2,
                "60m",
                "a,b",
                "nginx:1,busybox",
                "app=web,env in (dev,prod),tier=fe"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
        let ss = json!({"metadata": {"name": "db"}, "spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
        assert_eq!(
            cells(&table("apps", "v1", "statefulsets", &[ss]), 0)[1],
            "1/2"
        );
        let ds = json!({"metadata": {"name": "agent"}, "spec": {"template": {"spec": {"nodeSelector": {"os": "linux"}}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}});
        assert_eq!(
            cells(&table("apps", "v1", "daemonsets", &[ds]), 0)[1..7],
            json!([3, 3, 2, 3, 2, "os=linux"]).as_array().unwrap()[..]
        );
        let job = json!({"metadata": {"name": "j"}, "spec": {"completions": 1},
            "status": {"succeeded": 1, "startTime": "2025-01-10T11:00:00Z", "completionTime": "2025-01-10T11:00:45Z",
                "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            cells(&table("batch", "v1", "jobs", &[job]), 0)[1..4],
            json!(["Complete", "1/1", "45s"]).as_array().unwrap()[..]
        );
        let cj = json!({"metadata": {"name": "c"}, "spec": {"schedule": "*/5 * * * *"}, "status": {"lastScheduleTime": "2025-01-10T11:57:00Z"}});
        assert_eq!(
            cells(&table("batch", "v1", "cronjobs", &[cj]), 0)[1..6],
            json!(["*/5 * * * *", "<none>", false, 0, "3m"])
                .as_array()
                .unwrap()[..]
        );
    }

    #[test]
    fn services_and_endpoints() {
        let svc = json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}], "selector": {"app": "x"}}});
        let t = table("", "v1", "services", &[svc]);
        assert_eq!(
            headers(&t, 0),
            [
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE"
            ]
        );
        let c = cells(&t, 0);
        assert_eq!(
            c[1..5],
            json!(["NodePort", "10.96.0.10", "<none>", "80:30080/TCP,53/UDP"])
                .as_array()
                .unwrap()[..]
        );
        assert_eq!(c[6], "app=x");
        let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1", "ports": [{"port": 443}]}});
        assert_eq!(
            cells(&table("", "v1", "services", &[lb]), 0)[3],
            "<pending>"
        );
        let ep = json!({"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "1.1.1.1"}, {"ip": "1.1.1.2"}, {"ip": "1.1.1.3"}, {"ip": "1.1.1.4"}], "ports": [{"port": 80}]}]});
        assert_eq!(
            cells(&table("", "v1", "endpoints", &[ep]), 0)[1],
            "1.1.1.1:80,1.1.1.2:80,1.1.1.3:80 + 1 more..."
        );
        let es = json!({"metadata": {"name": "es"}, "addressType": "IPv4", "ports": [{"port": 8080}], "endpoints": [{"addresses": ["10.0.0.1"]}]});
        assert_eq!(
            cells(&table("discovery.k8s.io", "v1", "endpointslices", &[es]), 0)[1..4],
            json!(["IPv4", "8080", "10.0.0.1"]).as_array().unwrap()[..]
        );
    }

    #[test]
    fn storage_and_config() {
        let pvc = json!({"metadata": {"name": "data"}, "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"]}});
        let t = table("", "v1", "persistentvolumeclaims", &[pvc]);
        assert_eq!(
            headers(&t, 0),
            [
                "NAME",
                "STATUS",
                "VOLUME",
                "CAPACITY",
                "ACCESS MODES",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "AGE"
            ]
        );
        assert_eq!(
            cells(&t, 0)[..7],
            json!([
                "data", "Bound", "pv-1", "10Gi", "RWO", "standard", "<unset>"
            ])
            .as_array()
            .unwrap()[..]
        );
        let pv = json!({"metadata": {"name": "pv-1"}, "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Retain", "claimRef": {"namespace": "default", "name": "data"}}, "status": {"phase": "Bound"}});
        assert_eq!(
            cells(&table("", "v1", "persistentvolumes", &[pv]), 0)[1..6],
            json!(["10Gi", "RWO,ROX", "Retain", "Bound", "default/data"])
                .as_array()
                .unwrap()[..]
        );
        let sec = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
        assert_eq!(
            cells(&table("", "v1", "secrets", &[sec]), 0)[1..3],
            json!(["kubernetes.io/tls", 2]).as_array().unwrap()[..]
        );
        let sc = json!({"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "rancher.io/local-path"});
        assert_eq!(
            cells(&table("storage.k8s.io", "v1", "storageclasses", &[sc]), 0)[..5],
            json!([
                "standard (default)",
                "rancher.io/local-path",
                "Delete",
                "Immediate",
                false
            ])
            .as_array()
            .unwrap()[..]
        );
        let ns = json!({"metadata": {"name": "kube-system"}});
        assert_eq!(cells(&table("", "v1", "namespaces", &[ns]), 0)[1], "Active");
    }

    #[test]
    fn events_policy_autoscaling() {
        let ev = json!({"metadata": {"name": "p.1"}, "type": "Warning", "reason": "BackOff",
            "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{app}"},
            "message": "Back-off restarting failed container\n", "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2025-01-10T11:00:00Z", "lastTimestamp": "2025-01-10T11:59:00Z", "count": 12});
        let t = table("", "v1", "events", &[ev]);
        assert_eq!(
            headers(&t, 0),
            ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        );
        assert_eq!(
            cells(&t, 0),
            json!([
                "60s",
                "Warning",
                "BackOff",
                "pod/p",
                "spec.containers{app}",
                "kubelet, node-1",
                "Back-off restarting failed container",
                "60m",
                12,
                "p.1"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
        let new_ev = json!({"metadata": {"name": "e2"}, "type": "Normal", "reason": "Scheduled", "regarding": {"kind": "Pod", "name": "q"},
            "note": "ok", "eventTime": "2025-01-10T11:59:30.000000Z", "reportingController": "default-scheduler"});
        let c = cells(&table("events.k8s.io", "v1", "events", &[new_ev]), 0);
        assert_eq!(
            c[..7],
            json!([
                "30s",
                "Normal",
                "Scheduled",
                "pod/q",
                "",
                "default-scheduler",
                "ok"
            ])
            .as_array()
            .unwrap()[..]
        );
        let pdb = json!({"metadata": {"name": "pdb"}, "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 0}});
        let t = table("policy", "v1", "poddisruptionbudgets", &[pdb]);
        assert_eq!(
            headers(&t, 0),
            [
                "NAME",
                "MIN AVAILABLE",
                "MAX UNAVAILABLE",
                "ALLOWED DISRUPTIONS",
                "AGE"
            ]
        );
        assert_eq!(
            cells(&t, 0)[1..4],
            json!(["2", "N/A", 0]).as_array().unwrap()[..]
        );
        let hpa = json!({"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
            "status": {"currentReplicas": 3, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}}]}});
        assert_eq!(
            cells(
                &table("autoscaling", "v2", "horizontalpodautoscalers", &[hpa]),
                0
            )[1..6],
            json!(["Deployment/web", "cpu: 45%/80%", "2", 10, 3])
                .as_array()
                .unwrap()[..]
        );
        let ing = json!({"metadata": {"name": "i"}, "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example.com"}], "tls": [{}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}});
        assert_eq!(
            cells(&table("networking.k8s.io", "v1", "ingresses", &[ing]), 0)[1..5],
            json!(["nginx", "a.example.com", "1.2.3.4", "80, 443"])
                .as_array()
                .unwrap()[..]
        );
    }

    #[test]
    fn crds_and_custom_resources() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com", "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"},
                "versions": [{"name": "v1", "served": true, "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.sizes[0].value"},
                    {"name": "Owner", "type": "string", "jsonPath": ".spec.owner", "priority": 1},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]},
                    {"name": "v2", "served": true}]}});
        let t = table(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            std::slice::from_ref(&crd),
        );
        assert_eq!(headers(&t, 0), ["NAME", "CREATED AT"]);
        assert_eq!(
            cells(&t, 0),
            json!(["widgets.example.com", "2025-01-01T00:00:00Z"])
                .as_array()
                .unwrap()
                .clone()
        );
        let mut r = Registry::builtin();
        r.add_crd(&crd).unwrap();
        let w = json!({"metadata": {"name": "w1", "creationTimestamp": "2025-01-10T11:59:15Z"},
            "spec": {"sizes": [{"value": 3}]},
            "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        let rt = r.by_plural("example.com", "v1", "widgets").unwrap();
        let t = to_table(
            rt,
            std::slice::from_ref(&w),
            json!({}),
            IncludeObject::Metadata,
            now(),
        );
        assert_eq!(headers(&t, 0), ["NAME", "READY", "SIZE", "AGE"]);
        assert_eq!(headers(&t, 1), ["OWNER"]);
        assert_eq!(
            cells(&t, 0),
            json!(["w1", "True", 3, null, "45s"])
                .as_array()
                .unwrap()
                .clone()
        );
        let rt2 = r.by_plural("example.com", "v2", "widgets").unwrap();
        let t = to_table(rt2, &[w], json!({}), IncludeObject::Metadata, now());
        assert_eq!(headers(&t, 0), ["NAME", "AGE"]);
        assert_eq!(
            cells(&t, 0),
            json!(["w1", "45s"]).as_array().unwrap().clone()
        );
    }

    #[test]
    fn json_path_subset() {
        let v = json!({"a": {"b": [{"c": 1, "t": "x"}, {"c": 2, "t": "y"}]}});
        let get = |p: &str| eval_json_path(&v, &parse_json_path(p)).cloned();
        assert_eq!(get(".a.b[1].c"), Some(json!(2)));
        assert_eq!(get("{.a.b[?(@.t==\"y\")].c}"), Some(json!(2)));
        assert_eq!(get(".a.b[*].c"), Some(json!(1)));
        assert_eq!(get(".a.missing"), None);
        assert_eq!(get(".a.b[5]"), None);
    }

    #[test]
    fn default_table_is_name_age() {
        let t = table(
            "",
            "v1",
            "podtemplates",
            &[json!({"metadata": {"name": "x", "creationTimestamp": "2025-01-10T11:59:00Z"}})],
        );
        assert_eq!(headers(&t, 0), ["NAME", "AGE"]);
        assert_eq!(
            cells(&t, 0),
            json!(["x", "60s"]).as_array().unwrap().clone()
        );
    }
}
