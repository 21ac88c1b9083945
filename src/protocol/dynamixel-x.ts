/**
 * ROBOTIS DYNAMIXEL X-series control table (Protocol 2.0): XL330-M288 / XL330-M077 (Koch arms),
 * XL430-W250 (Koch follower shoulder), XM430-W350. Facts: ../shared/PROTOCOLS.md A5.
 * Little-endian; signed registers are two's complement. EEPROM is 0–63, RAM from 64.
 */
import type { RegisterSpec, ServoModel } from './control-table.ts';

export const X_TABLE = {
  Model_Number: { address: 0, size: 2, access: 'r' },
  Model_Information: { address: 2, size: 4, access: 'r' },
  Firmware_Version: { address: 6, size: 1, access: 'r' },
  ID: { address: 7, size: 1, access: 'rw' },
  Baud_Rate: { address: 8, size: 1, access: 'rw' },
  Return_Delay_Time: { address: 9, size: 1, access: 'rw' },
  Drive_Mode: { address: 10, size: 1, access: 'rw' },
  Operating_Mode: { address: 11, size: 1, access: 'rw' },
  Secondary_ID: { address: 12, size: 1, access: 'rw' },
  Protocol_Type: { address: 13, size: 1, access: 'rw' },
  Homing_Offset: { address: 20, size: 4, access: 'rw', signed: true },
  Moving_Threshold: { address: 24, size: 4, access: 'rw' },
  Temperature_Limit: { address: 31, size: 1, access: 'rw' },
  Max_Voltage_Limit: { address: 32, size: 2, access: 'rw' },
  Min_Voltage_Limit: { address: 34, size: 2, access: 'rw' },
  PWM_Limit: { address: 36, size: 2, access: 'rw' },
  Current_Limit: { address: 38, size: 2, access: 'rw' },
  Velocity_Limit: { address: 44, size: 4, access: 'rw' },
  Max_Position_Limit: { address: 48, size: 4, access: 'rw' },
  Min_Position_Limit: { address: 52, size: 4, access: 'rw' },
  Startup_Configuration: { address: 60, size: 1, access: 'rw' },
  PWM_Slope: { address: 62, size: 1, access: 'rw' },
  Shutdown: { address: 63, size: 1, access: 'rw' },
  Torque_Enable: { address: 64, size: 1, access: 'rw' },
  LED: { address: 65, size: 1, access: 'rw' },
  Status_Return_Level: { address: 68, size: 1, access: 'rw' },
  Registered_Instruction: { address: 69, size: 1, access: 'r' },
  Hardware_Error_Status: { address: 70, size: 1, access: 'r' },
  Velocity_I_Gain: { address: 76, size: 2, access: 'rw' },
  Velocity_P_Gain: { address: 78, size: 2, access: 'rw' },
  Position_D_Gain: { address: 80, size: 2, access: 'rw' },
  Position_I_Gain: { address: 82, size: 2, access: 'rw' },
  Position_P_Gain: { address: 84, size: 2, access: 'rw' },
  Feedforward_2nd_Gain: { address: 88, size: 2, access: 'rw' },
  Feedforward_1st_Gain: { address: 90, size: 2, access: 'rw' },
  Bus_Watchdog: { address: 98, size: 1, access: 'rw' },
  Goal_PWM: { address: 100, size: 2, access: 'rw', signed: true },
  Goal_Current: { address: 102, size: 2, access: 'rw', signed: true },
  Goal_Velocity: { address: 104, size: 4, access: 'rw', signed: true },
  Profile_Acceleration: { address: 108, size: 4, access: 'rw' },
  Profile_Velocity: { address: 112, size: 4, access: 'rw' },
  Goal_Position: { address: 116, size: 4, access: 'rw', signed: true },
  Realtime_Tick: { address: 120, size: 2, access: 'r' },
  Moving: { address: 122, size: 1, access: 'r' },
  Moving_Status: { address: 123, size: 1, access: 'r' },
  Present_PWM: { address: 124, size: 2, access: 'r', signed: true },
  Present_Current: { address: 126, size: 2, access: 'r', signed: true },
  Present_Load: { address: 126, size: 2, access: 'r', signed: true },
  Present_Velocity: { address: 128, size: 4, access: 'r', signed: true },
  Present_Position: { address: 132, size: 4, access: 'r', signed: true },
  Velocity_Trajectory: { address: 136, size: 4, access: 'r', signed: true },
  Position_Trajectory: { address: 140, size: 4, access: 'r', signed: true },
  Present_Input_Voltage: { address: 144, size: 2, access: 'r' },
  Present_Temperature: { address: 146, size: 1, access: 'r' },
  Backup_Ready: { address: 147, size: 1, access: 'r' },
} as const satisfies Record<string, RegisterSpec>;

export type XRegister = keyof typeof X_TABLE;

/** Registers only some X models have (PROTOCOLS.md A5). */
const CURRENT_REGISTERS: readonly XRegister[] = ['Current_Limit', 'Goal_Current', 'Present_Current'];

function pick(omit: readonly XRegister[]): Partial<Record<XRegister, RegisterSpec>> {
  const out: Partial<Record<XRegister, RegisterSpec>> = {};
  for (const [name, spec] of Object.entries(X_TABLE) as [XRegister, RegisterSpec][]) {
    if (!omit.includes(name)) out[name] = spec;
  }
  return out;
}

const COMMON_INITIAL: Partial<Record<XRegister, number>> = {
  ID: 1,
  Baud_Rate: 1,
  Return_Delay_Time: 250,
  Drive_Mode: 0,
  Operating_Mode: 3,
  Secondary_ID: 255,
  Protocol_Type: 2,
  Homing_Offset: 0,
  Moving_Threshold: 10,
  PWM_Limit: 885,
  Max_Position_Limit: 4095,
  Min_Position_Limit: 0,
  Status_Return_Level: 2,
  Present_Temperature: 30,
};

function xModel(
  name: string,
  modelNumber: number,
  firmware: number,
  hasCurrent: boolean,
  hasPwmSlope: boolean,
  initial: Partial<Record<XRegister, number>>,
  maxSpeedCountsPerS: number,
): ServoModel<XRegister> {
  const omit: XRegister[] = [];
  if (!hasCurrent) omit.push(...CURRENT_REGISTERS);
  else omit.push('Present_Load');
  if (!hasPwmSlope) omit.push('PWM_Slope');
  return {
    name,
    vendor: 'dynamixel',
    modelNumber,
    table: pick(omit),
    resolution: 4096,
    endianness: 'little',
    eepromEnd: 64,
    memorySize: 148,
    initial: { ...COMMON_INITIAL, Model_Number: modelNumber, Firmware_Version: firmware, ...initial },
    maxSpeedCountsPerS,
    maxAccelCountsPerS2: 40_000,
  };
}

// Speeds: no-load rpm × 4096 / 60 (XL330-M288 ≈ 103 rpm at 5 V, M077 ≈ 383 rpm, XL430 ≈ 57 rpm, XM430-W350 ≈ 46 rpm).
export const XL330_M288 = xModel('xl330-m288', 1200, 52, true, true, {
  Temperature_Limit: 70, Max_Voltage_Limit: 70, Min_Voltage_Limit: 35, Current_Limit: 1750, Velocity_Limit: 445,
  PWM_Slope: 140, Shutdown: 53, Velocity_I_Gain: 1600, Velocity_P_Gain: 180, Position_D_Gain: 0, Position_I_Gain: 0,
  Position_P_Gain: 400, Present_Input_Voltage: 50,
}, 7030);
export const XL330_M077 = xModel('xl330-m077', 1190, 52, true, true, {
  Temperature_Limit: 70, Max_Voltage_Limit: 70, Min_Voltage_Limit: 35, Current_Limit: 1750, Velocity_Limit: 1620,
  PWM_Slope: 140, Shutdown: 53, Velocity_I_Gain: 1600, Velocity_P_Gain: 180, Position_P_Gain: 400,
  Present_Input_Voltage: 50,
}, 26_100);
export const XL430_W250 = xModel('xl430-w250', 1060, 52, false, false, {
  Temperature_Limit: 72, Max_Voltage_Limit: 140, Min_Voltage_Limit: 60, Velocity_Limit: 265, Shutdown: 52,
  Velocity_I_Gain: 1000, Velocity_P_Gain: 100, Position_D_Gain: 4000, Position_I_Gain: 0, Position_P_Gain: 640,
  Present_Input_Voltage: 120,
}, 3890);
export const XM430_W350 = xModel('xm430-w350', 1020, 48, true, false, {
  Temperature_Limit: 80, Max_Voltage_Limit: 160, Min_Voltage_Limit: 95, Current_Limit: 1193, Velocity_Limit: 200,
  Shutdown: 52, Velocity_I_Gain: 1920, Velocity_P_Gain: 100, Position_D_Gain: 0, Position_I_Gain: 0,
  Position_P_Gain: 800, Present_Input_Voltage: 120,
}, 3140);

/** Baud_Rate register value → bits per second (PROTOCOLS.md A5). */
export const X_BAUD_RATES: Readonly<Record<number, number>> = {
  0: 9600, 1: 57_600, 2: 115_200, 3: 1_000_000, 4: 2_000_000, 5: 3_000_000, 6: 4_000_000, 7: 4_500_000,
};

/** Hardware Error Status (70) / Shutdown (63) bits (PROTOCOLS.md A3). */
export const X_HARDWARE_ERROR_BITS = {
  0x01: 'input voltage error',
  0x04: 'overheating',
  0x08: 'motor encoder error',
  0x10: 'electrical shock',
  0x20: 'overload',
} as const;
