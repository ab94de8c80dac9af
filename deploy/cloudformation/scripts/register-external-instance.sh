#!/usr/bin/env bash
# Registers an on-prem / home host as an ECS Anywhere external instance of the edge-tunnel cluster.
#
# An SSM hybrid activation is not a CloudFormation resource, so this script creates it with
# `aws ssm create-activation` for the EcsAnywhereInstanceRole of the ingress stack (that role has
# AmazonSSMManagedInstanceCore + AmazonEC2ContainerServiceforEC2Role), then prints -- or, with
# --run, executes on this host -- the ECS Anywhere install command.
#
# Usage:
#   register-external-instance.sh --stack-name edge-tunnel-dev-ingress [--region eu-west-1]
#       [--instance-name NAME] [--hosts "app.example.com api.example.com"] [--attribute edge-tunnel.agent]
#       [--limit 1] [--expires-hours 24] [--run]
#   register-external-instance.sh --cluster edge-tunnel-dev --role <EcsAnywhereInstanceRole name> ...
#   register-external-instance.sh ... --dry-run     # print the AWS CLI calls, call nothing
#
# The installer is run only after its detached GPG signature verifies against the Amazon ECS key
# (primary key fingerprint F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F, as the ECS developer guide
# publishes it). The managed instance is named after the edge host: with --run, this host's
# hostname; otherwise SSM shows the host's own computer name (pass --instance-name to override).
#
# --hosts tags the activation (and so every host it registers) edge-tunnel.hosts=<routes>: in the
# iam auth modes the ingress lets that host's agent claim exactly those routes (space-separated;
# .apps.example.com for the wildcard *.apps.example.com). The host cannot change its SSM tags.
#
# The activation code is a credential: it registers up to --limit hosts until it expires.
# Do not paste it into tickets or chat; let it expire (or delete the activation) when done.
set -euo pipefail

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

INSTALLER_URL="https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh"
# Amazon ECS PGP key (ECS developer guide, "Registering an external instance to a cluster").
ECS_KEY_ID="BCE9D9A42D51784F"
ECS_KEY_FINGERPRINT="F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"
KEYSERVER="${ECS_ANYWHERE_KEYSERVER:-hkp://keyserver.ubuntu.com:80}"

REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
STACK_NAME=""
CLUSTER=""
ROLE=""
INSTANCE_NAME=""
ATTRIBUTE=""
HOSTS=""
LIMIT=1
EXPIRES_HOURS=24
RUN=false
DRY_RUN=false

while [ $# -gt 0 ]; do
  case "$1" in
    --region) REGION="$2"; shift 2 ;;
    --stack-name) STACK_NAME="$2"; shift 2 ;;
    --cluster) CLUSTER="$2"; shift 2 ;;
    --role) ROLE="$2"; shift 2 ;;
    --instance-name) INSTANCE_NAME="$2"; shift 2 ;;
    --attribute) ATTRIBUTE="$2"; shift 2 ;;
    --hosts) HOSTS="$2"; shift 2 ;;
    --limit) LIMIT="$2"; shift 2 ;;
    --expires-hours) EXPIRES_HOURS="$2"; shift 2 ;;
    --run) RUN=true; shift ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done

die() { echo "error: $*" >&2; exit 1; }

[ -n "$REGION" ] || die "--region (or AWS_REGION) is required"
case "$LIMIT" in ''|*[!0-9]*) die "--limit must be a positive integer" ;; esac
case "$EXPIRES_HOURS" in ''|*[!0-9]*) die "--expires-hours must be a positive integer" ;; esac
# SSM allows activations to live at most 30 days.
if [ "$EXPIRES_HOURS" -lt 1 ] || [ "$EXPIRES_HOURS" -gt 720 ]; then die "--expires-hours must be 1..720"; fi
if [ "$LIMIT" -lt 1 ] || [ "$LIMIT" -gt 1000 ]; then die "--limit must be 1..1000"; fi
case "$ATTRIBUTE" in *[!A-Za-z0-9_./-]*) die "--attribute: letters, digits, _ . / - only" ;; esac
# SSM tag values: letters, digits, spaces and _ . : / = + - @ (at most 256); routes need no more
case "$HOSTS" in *[!a-zA-Z0-9\ ._/-]*) die "--hosts: space-separated host[/path] routes (letters, digits, . - _ /)" ;; esac
[ "${#HOSTS}" -le 256 ] || die "--hosts: at most 256 characters (an SSM tag value)"
# The name comes from the edge host: with --run this is the edge host.
if [ -z "$INSTANCE_NAME" ] && $RUN; then INSTANCE_NAME="$(hostname)"; fi
if [ -n "$INSTANCE_NAME" ] && [ "$LIMIT" -gt 1 ]; then
  echo "warning: every host registered with this activation gets the name $INSTANCE_NAME" >&2
fi
NAME_ARGS=()
[ -z "$INSTANCE_NAME" ] || NAME_ARGS=(--default-instance-name "$INSTANCE_NAME")

aws_cli() {
  if $DRY_RUN; then
    printf '+ aws' >&2; printf ' %q' "$@" >&2; printf '\n' >&2
  else
    aws "$@"
  fi
}

stack_output() {
  aws_cli cloudformation describe-stacks --region "$REGION" --stack-name "$STACK_NAME" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]" --output text
}

if [ -n "$STACK_NAME" ]; then
  if $DRY_RUN; then
    stack_output ClusterName; stack_output EcsAnywhereInstanceRoleName
    CLUSTER="${CLUSTER:-<ClusterName output>}"; ROLE="${ROLE:-<EcsAnywhereInstanceRoleName output>}"
  else
    [ -n "$CLUSTER" ] || CLUSTER="$(stack_output ClusterName)"
    [ -n "$ROLE" ] || ROLE="$(stack_output EcsAnywhereInstanceRoleName)"
  fi
fi
if [ -z "$CLUSTER" ] || [ "$CLUSTER" = "None" ]; then die "cluster unknown: pass --stack-name of the ingress stack or --cluster"; fi
if [ -z "$ROLE" ] || [ "$ROLE" = "None" ]; then die "role unknown: pass --stack-name of the ingress stack or --role"; fi
TAGS=("Key=Project,Value=edge-tunnel" "Key=Cluster,Value=$CLUSTER")
[ -z "$HOSTS" ] || TAGS+=("Key=edge-tunnel.hosts,Value=$HOSTS")

if EXPIRES="$(date -u -d "+${EXPIRES_HOURS} hours" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"; then :
else EXPIRES="$(date -u -v+"${EXPIRES_HOURS}"H +%Y-%m-%dT%H:%M:%SZ)"; fi

if $DRY_RUN; then
  aws_cli ssm create-activation --region "$REGION" --iam-role "$ROLE" \
    --registration-limit "$LIMIT" --expiration-date "$EXPIRES" \
    ${NAME_ARGS[@]+"${NAME_ARGS[@]}"} --description "edge-tunnel ECS Anywhere host for $CLUSTER" \
    --tags "${TAGS[@]}" \
    --query '[ActivationId,ActivationCode]' --output text
  ACTIVATION_ID="<ActivationId>"
  ACTIVATION_CODE="<ActivationCode>"
else
  read -r ACTIVATION_ID ACTIVATION_CODE < <(aws_cli ssm create-activation --region "$REGION" --iam-role "$ROLE" \
    --registration-limit "$LIMIT" --expiration-date "$EXPIRES" \
    ${NAME_ARGS[@]+"${NAME_ARGS[@]}"} --description "edge-tunnel ECS Anywhere host for $CLUSTER" \
    --tags "${TAGS[@]}" \
    --query '[ActivationId,ActivationCode]' --output text)
  if [ -z "${ACTIVATION_ID:-}" ] || [ -z "${ACTIVATION_CODE:-}" ]; then die "create-activation returned no id/code"; fi
fi

# Download the installer and its signature, verify it with the Amazon ECS key in a keyring of its
# own (nothing else in the user's keyring can vouch for it), and only then run it.
VERIFY="export GNUPGHOME=\$(mktemp -d) && curl --proto '=https' -fsSL -o ecs-anywhere-install.sh $INSTALLER_URL && curl --proto '=https' -fsSL -o ecs-anywhere-install.sh.asc $INSTALLER_URL.asc && gpg --keyserver $KEYSERVER --recv-keys $ECS_KEY_ID && gpg --status-fd 1 --verify ecs-anywhere-install.sh.asc ecs-anywhere-install.sh | grep -q '^\[GNUPG:\] VALIDSIG .* $ECS_KEY_FINGERPRINT\$'"
INSTALL="$VERIFY && sudo bash ecs-anywhere-install.sh --region $REGION --cluster $CLUSTER --activation-id $ACTIVATION_ID --activation-code $ACTIVATION_CODE"

STATUS=created
$DRY_RUN && STATUS="NOT created (dry run)"
cat >&2 <<EOF
SSM activation ${STATUS} for role $ROLE (cluster $CLUSTER, region $REGION)
  registrations allowed: $LIMIT, expires: $EXPIRES
On the host to register (Linux with systemd, gpg and curl, outbound HTTPS only), run -- it stops
unless the installer's signature verifies against the Amazon ECS key $ECS_KEY_FINGERPRINT:
EOF
echo "$INSTALL"
cat >&2 <<EOF
Afterwards the host shows up as a container instance (mi-...):
  aws ecs list-container-instances --region $REGION --cluster $CLUSTER --filter "attribute:ecs.capability.external exists"
and the edge-agent DAEMON service places one agent on it.
EOF
if [ -n "$ATTRIBUTE" ]; then
  cat >&2 <<EOF
The edge stack's AgentHostAttribute places agents only on hosts with that attribute; add it with
  aws ecs put-attributes --region $REGION --cluster $CLUSTER --attributes "name=$ATTRIBUTE,targetType=container-instance,targetId=<container instance ARN>"
(the ARN: aws ecs list-container-instances --region $REGION --cluster $CLUSTER --filter "ec2InstanceId == mi-...")
EOF
fi

if $RUN; then
  $DRY_RUN && { echo "(dry run: not running the installer)" >&2; exit 0; }
  [ "$(uname -s)" = Linux ] || die "--run only works on the Linux host being registered"
  workdir="$(mktemp -d)"
  trap 'rm -rf "$workdir"' EXIT
  cd "$workdir"
  command -v gpg >/dev/null 2>&1 || die "gpg is required to verify the installer (e.g. apt-get install gnupg)"
  export GNUPGHOME="$workdir/gnupg"
  mkdir -m 700 "$GNUPGHOME"
  curl --proto '=https' -fsSL -o ecs-anywhere-install.sh "$INSTALLER_URL"
  curl --proto '=https' -fsSL -o ecs-anywhere-install.sh.asc "$INSTALLER_URL.asc"
  gpg --batch --keyserver "$KEYSERVER" --recv-keys "$ECS_KEY_ID"
  # VALIDSIG's last field is the primary key's fingerprint (the signature is made by a subkey).
  if ! gpg --batch --status-fd 1 --verify ecs-anywhere-install.sh.asc ecs-anywhere-install.sh 2>/dev/null \
      | grep -q "^\[GNUPG:\] VALIDSIG .* $ECS_KEY_FINGERPRINT\$"; then
    die "ecs-anywhere-install.sh: signature does not verify against the Amazon ECS key $ECS_KEY_FINGERPRINT; not running it"
  fi
  echo "ecs-anywhere-install.sh: good signature from the Amazon ECS key $ECS_KEY_FINGERPRINT" >&2
  sudo bash ecs-anywhere-install.sh --region "$REGION" --cluster "$CLUSTER" \
    --activation-id "$ACTIVATION_ID" --activation-code "$ACTIVATION_CODE"
fi
