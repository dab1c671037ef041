/**
 * A firm's directory as read from a platform's contact API (WeCom 通讯录, DingTalk 通讯录): the
 * platform adapters implement DirectorySource, the directory feature compares it with the roster.
 * The core never imports a platform.
 */
export interface DirectoryDepartment {
  /** The platform's department id (as text: WeCom and DingTalk both use numbers). */
  id: string;
  name: string;
  parentId?: string;
  /** Userids the platform names as the department's leaders, when it gives them. */
  leaders: string[];
}

export interface DirectoryMember {
  userid: string;
  name: string;
  /** Platform department ids, the main one first. */
  departmentIds: string[];
}

export interface DirectorySnapshot {
  platform: string;
  departments: DirectoryDepartment[];
  members: DirectoryMember[];
}

export interface DirectorySource {
  readonly platform: string;
  /** Read the whole directory. Throws PlatformApiError / UpstreamHttpError on failure. */
  read(): Promise<DirectorySnapshot>;
}
