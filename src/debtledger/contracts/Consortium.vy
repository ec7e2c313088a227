# pragma version ~=0.4.3
"""
@title DebtLedger consortium membership
@notice Who is in the consortium and in which roles: creditors, agencies, courts,
        regulators, the contact gateway and keepers. Other contracts ask `has_role`.
@custom:contract-name Consortium
@license MIT
"""

CREDITOR: public(constant(bytes32)) = keccak256("CREDITOR")
AGENCY: public(constant(bytes32)) = keccak256("AGENCY")
COURT: public(constant(bytes32)) = keccak256("COURT")
REGULATOR: public(constant(bytes32)) = keccak256("REGULATOR")
GATEWAY: public(constant(bytes32)) = keccak256("GATEWAY")
KEEPER: public(constant(bytes32)) = keccak256("KEEPER")

# @dev The consortium's governance account: grants and revokes roles.
admin: public(address)

# @dev The account named by `transfer_admin`, until it calls `accept_admin`.
pending_admin: public(address)

# @dev account => role => granted.
has_role: public(HashMap[address, HashMap[bytes32, bool]])

# @dev account => organisation id (keccak of the organisation's registered name).
org_of: public(HashMap[address, bytes32])


# @dev An organisation was given a role.
event RoleGranted:
    account: indexed(address)
    role: indexed(bytes32)
    org_id: indexed(bytes32)
    granted_by: address


# @dev An organisation lost a role.
event RoleRevoked:
    account: indexed(address)
    role: indexed(bytes32)
    revoked_by: address


# @dev The admin named a successor; nothing changes until the successor accepts.
event AdminTransferStarted:
    previous_admin: indexed(address)
    new_admin: indexed(address)


# @dev The successor accepted; it is now the admin.
event AdminTransferred:
    previous_admin: indexed(address)
    new_admin: indexed(address)


@deploy
def __init__():
    """
    @notice The deployer becomes the consortium admin.
    """
    self.admin = msg.sender
    log AdminTransferred(previous_admin=empty(address), new_admin=msg.sender)


@internal
@view
def _check_admin():
    assert msg.sender == self.admin, "consortium: caller is not the admin"


@internal
@pure
def _check_known_role(role: bytes32):
    assert role in [CREDITOR, AGENCY, COURT, REGULATOR, GATEWAY, KEEPER], "consortium: unknown role"


@external
def grant_role(role: bytes32, account: address, org_id: bytes32):
    """
    @notice Give `account` (an organisation's signing address) a role.
    @param role One of the role constants.
    @param account The organisation's address; not the zero address.
    @param org_id The organisation's id (keccak of its name); fixed once set.
    """
    self._check_admin()
    self._check_known_role(role)
    assert account != empty(address), "consortium: zero address"
    assert org_id != empty(bytes32), "consortium: empty organisation id"
    known: bytes32 = self.org_of[account]
    assert known == empty(bytes32) or known == org_id, "consortium: account belongs to another organisation"
    assert not self.has_role[account][role], "consortium: role already granted"
    self.org_of[account] = org_id
    self.has_role[account][role] = True
    log RoleGranted(account=account, role=role, org_id=org_id, granted_by=msg.sender)


@external
def revoke_role(role: bytes32, account: address):
    """
    @notice Take a role away from `account`.
    @param role One of the role constants.
    @param account The organisation's address.
    """
    self._check_admin()
    self._check_known_role(role)
    assert self.has_role[account][role], "consortium: role not granted"
    self.has_role[account][role] = False
    log RoleRevoked(account=account, role=role, revoked_by=msg.sender)


@external
def transfer_admin(new_admin: address):
    """
    @notice First step of an admin change: name the successor.
    @param new_admin The successor; the zero address cancels a pending change.
    """
    self._check_admin()
    self.pending_admin = new_admin
    log AdminTransferStarted(previous_admin=msg.sender, new_admin=new_admin)


@external
def accept_admin():
    """
    @notice Second step of an admin change: the named successor takes over.
    """
    assert msg.sender == self.pending_admin, "consortium: caller is not the pending admin"
    assert msg.sender != empty(address), "consortium: caller is not the pending admin"
    previous: address = self.admin
    self.admin = msg.sender
    self.pending_admin = empty(address)
    log AdminTransferred(previous_admin=previous, new_admin=msg.sender)
