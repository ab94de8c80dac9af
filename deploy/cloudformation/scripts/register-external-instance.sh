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
#       [--instance-name home-nas] [--limit 1] [--expires-hours 24] [--run]
#   register-external-instance.sh --cluster edge-tunnel-dev --role <EcsAnywhereInstanceRole name> ...
#   register-external-instance.sh ... --dry-run     # print the AWS CLI calls, call nothing
#
# The activation code is a credential: it registers up to --limit hosts until it expires.
# Do not paste it into tickets or chat; let it expire (or delete the activation) when done.
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
STACK_NAME=""
CLUSTER=""
ROLE=""
INSTANCE_NAME="edge-tunnel-$(hostname -s 2>/dev/null || echo host)"
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

if EXPIRES="$(date -u -d "+${EXPIRES_HOURS} hours" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"; then :
else EXPIRES="$(date -u -v+"${EXPIRES_HOURS}"H +%Y-%m-%dT%H:%M:%SZ)"; fi

if $DRY_RUN; then
  aws_cli ssm create-activation --region "$REGION" --iam-role "$ROLE" \
    --registration-limit "$LIMIT" --expiration-date "$EXPIRES" \
    --default-instance-name "$INSTANCE_NAME" --description "edge-tunnel ECS Anywhere host for $CLUSTER" \
    --tags "Key=Project,Value=edge-tunnel" "Key=Cluster,Value=$CLUSTER" \
    --query '[ActivationId,ActivationCode]' --output text
  ACTIVATION_ID="<ActivationId>"
  ACTIVATION_CODE="<ActivationCode>"
else
  read -r ACTIVATION_ID ACTIVATION_CODE < <(aws_cli ssm create-activation --region "$REGION" --iam-role "$ROLE" \
    --registration-limit "$LIMIT" --expiration-date "$EXPIRES" \
    --default-instance-name "$INSTANCE_NAME" --description "edge-tunnel ECS Anywhere host for $CLUSTER" \
    --tags "Key=Project,Value=edge-tunnel" "Key=Cluster,Value=$CLUSTER" \
    --query '[ActivationId,ActivationCode]' --output text)
  if [ -z "${ACTIVATION_ID:-}" ] || [ -z "${ACTIVATION_CODE:-}" ]; then die "create-activation returned no id/code"; fi
fi

INSTALL="curl --proto '=https' -o ecs-anywhere-install.sh https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh && sudo bash ecs-anywhere-install.sh --region $REGION --cluster $CLUSTER --activation-id $ACTIVATION_ID --activation-code $ACTIVATION_CODE"

STATUS=created
$DRY_RUN && STATUS="NOT created (dry run)"
cat >&2 <<EOF
SSM activation ${STATUS} for role $ROLE (cluster $CLUSTER, region $REGION)
  registrations allowed: $LIMIT, expires: $EXPIRES
On the host to register (Linux with systemd, outbound HTTPS only), run:
EOF
echo "$INSTALL"
cat >&2 <<EOF
Afterwards the host shows up as a container instance (mi-...):
  aws ecs list-container-instances --region $REGION --cluster $CLUSTER --filter "attribute:ecs.capability.external exists"
and the edge-agent DAEMON service places one agent on it.
EOF

if $RUN; then
  $DRY_RUN && { echo "(dry run: not running the installer)" >&2; exit 0; }
  [ "$(uname -s)" = Linux ] || die "--run only works on the Linux host being registered"
  workdir="$(mktemp -d)"
  trap 'rm -rf "$workdir"' EXIT
  cd "$workdir"
  curl --proto '=https' -fsSL -o ecs-anywhere-install.sh https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh
  sudo bash ecs-anywhere-install.sh --region "$REGION" --cluster "$CLUSTER" \
    --activation-id "$ACTIVATION_ID" --activation-code "$ACTIVATION_CODE"
fi
